import { listWateringsInput, recordWateringInput, updateWateringInput } from "../../../../shared/schemas/care";
import { plantIdInput } from "../../../../shared/schemas/plants";
import { listWaterings, recordWatering, updateWatering, wateringSummary } from "../../../watering";
import { router, siteProcedure } from "../core";

/** The watering ledger. */
export const wateringsRouter = router({
  list: siteProcedure("viewer")
    .input(listWateringsInput)
    .query(({ ctx, input }) => listWaterings(ctx.stores.db, ctx.siteId, input)),
  /** Last watered, the interval in force (plant or species) and next due. */
  summary: siteProcedure("viewer")
    .input(plantIdInput)
    .query(({ ctx, input }) => wateringSummary(ctx.stores.db, ctx.siteId, input.plantId, ctx.now())),
  record: siteProcedure("editor")
    .input(recordWateringInput)
    .mutation(({ ctx, input }) => recordWatering(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  update: siteProcedure("editor")
    .input(updateWateringInput)
    .mutation(({ ctx, input }) => updateWatering(ctx.stores.db, ctx.siteId, input, ctx.now())),
});
