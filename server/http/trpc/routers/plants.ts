import { createPlantInput, listPlantsInput, plantIdInput, updatePlantInput } from "../../../../shared/schemas/plants";
import { createPlant, getPlant, listPlants, setPlantArchived, updatePlant } from "../../../plants";
import { router, siteProcedure } from "../core";

export const plantsRouter = router({
  list: siteProcedure("viewer")
    .input(listPlantsInput)
    .query(({ ctx, input }) => listPlants(ctx.stores.db, ctx.siteId, input)),
  /** With the thresholds in force (and where each comes from), watering state, sensors and actuators. */
  get: siteProcedure("viewer")
    .input(plantIdInput)
    .query(({ ctx, input }) => getPlant(ctx.stores.db, ctx.siteId, input.plantId, ctx.now())),
  create: siteProcedure("editor")
    .input(createPlantInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _, ...fields } = input;
      return createPlant(ctx.stores.db, ctx.siteId, fields, ctx.now());
    }),
  update: siteProcedure("editor")
    .input(updatePlantInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _, plantId, ...fields } = input;
      return updatePlant(ctx.stores.db, ctx.siteId, plantId, fields, ctx.now());
    }),
  archive: siteProcedure("editor")
    .input(plantIdInput)
    .mutation(({ ctx, input }) => setPlantArchived(ctx.stores.db, ctx.siteId, input.plantId, true, ctx.now())),
  restore: siteProcedure("editor")
    .input(plantIdInput)
    .mutation(({ ctx, input }) => setPlantArchived(ctx.stores.db, ctx.siteId, input.plantId, false, ctx.now())),
});
