import { updateWateringSafetyInput, wateringSafetyInput } from "../../../../shared/schemas/automation";
import { getSafety, resumeWatering, updateSafety } from "../../../watering";
import { router, siteProcedure } from "../core";

/** Per-plant limits of automatic watering, and resuming it after the engine paused it. */
export const wateringSafetyRouter = router({
  get: siteProcedure("viewer")
    .input(wateringSafetyInput)
    .query(({ ctx, input }) => getSafety(ctx.stores.db, ctx.siteId, input.plantId)),
  update: siteProcedure("editor")
    .input(updateWateringSafetyInput)
    .mutation(({ ctx, input }) => updateSafety(ctx.stores.db, ctx.siteId, input, ctx.now())),
  resume: siteProcedure("editor")
    .input(wateringSafetyInput)
    .mutation(({ ctx, input }) => resumeWatering(ctx.stores.db, ctx.siteId, input.plantId, { userId: ctx.user.id, now: ctx.now() })),
});
