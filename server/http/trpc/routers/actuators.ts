import { actuatorIdInput, assignActuatorInput, createActuatorInput, listActuatorsInput, updateActuatorInput } from "../../../../shared/schemas/hardware";
import { assignActuator, createActuator, listActuators, requireActuator, updateActuator } from "../../../devices";
import { router, siteProcedure } from "../core";

export const actuatorsRouter = router({
  list: siteProcedure("viewer")
    .input(listActuatorsInput)
    .query(({ ctx, input }) => listActuators(ctx.stores.db, ctx.siteId, input)),
  get: siteProcedure("viewer")
    .input(actuatorIdInput)
    .query(({ ctx, input }) => requireActuator(ctx.stores.db, ctx.siteId, input.actuatorId)),
  create: siteProcedure("editor")
    .input(createActuatorInput)
    .mutation(({ ctx, input }) => createActuator(ctx.stores.db, ctx.siteId, input, ctx.now())),
  update: siteProcedure("editor")
    .input(updateActuatorInput)
    .mutation(({ ctx, input }) => updateActuator(ctx.stores.db, ctx.siteId, input)),
  assign: siteProcedure("editor")
    .input(assignActuatorInput)
    .mutation(({ ctx, input }) => assignActuator(ctx.stores.db, ctx.siteId, input.actuatorId, input.plantId)),
  unassign: siteProcedure("editor")
    .input(actuatorIdInput)
    .mutation(({ ctx, input }) => assignActuator(ctx.stores.db, ctx.siteId, input.actuatorId, null)),
});
