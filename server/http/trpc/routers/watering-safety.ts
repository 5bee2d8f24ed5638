import { pauseWateringInput, updateWateringSafetyInput, wateringSafetyInput } from "../../../../shared/schemas/automation";
import { getSafety, pauseWateringByUser, resumeWatering, updateSafety } from "../../../watering";
import { router, siteProcedure } from "../core";

/** Per-plant limits of automatic watering; pausing it (a person, with a reason and maybe an end) and resuming it. */
export const wateringSafetyRouter = router({
  get: siteProcedure("viewer")
    .input(wateringSafetyInput)
    .query(({ ctx, input }) => getSafety(ctx.stores.db, ctx.siteId, input.plantId, ctx.now())),
  update: siteProcedure("editor")
    .input(updateWateringSafetyInput)
    .mutation(({ ctx, input }) => updateSafety(ctx.stores.db, ctx.siteId, input, ctx.now())),
  pause: siteProcedure("editor")
    .input(pauseWateringInput)
    .mutation(({ ctx, input }) =>
      pauseWateringByUser(ctx.stores.db, ctx.siteId, { plantId: input.plantId, reason: input.reason, until: input.until }, { userId: ctx.user.id, now: ctx.now() }),
    ),
  resume: siteProcedure("editor")
    .input(wateringSafetyInput)
    .mutation(({ ctx, input }) => resumeWatering(ctx.stores.db, ctx.siteId, input.plantId, { userId: ctx.user.id, now: ctx.now() })),
});
