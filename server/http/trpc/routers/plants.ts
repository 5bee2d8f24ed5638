import { carePlanInput } from "../../../../shared/schemas/care";
import { createPlantInput, listPlantsInput, plantIdInput, updatePlantInput } from "../../../../shared/schemas/plants";
import { plantStatusInput } from "../../../../shared/schemas/plant-status";
import type { AnalyticsDeps } from "../../../analytics";
import { applyCarePlan, carePlanOf } from "../../../care";
import { createPlant, getPlant, listPlants, plantStatuses, setPlantArchived, updatePlant } from "../../../plants";
import type { Context } from "../context";
import { router, siteProcedure } from "../core";

const analytics = (ctx: Context): AnalyticsDeps => ({
  db: ctx.stores.db,
  ch: ctx.stores.clickhouse,
  directory: ctx.directory,
  rawRetentionDays: ctx.stores.retention.rawDays,
  now: ctx.now(),
});

export const plantsRouter = router({
  list: siteProcedure("viewer")
    .input(listPlantsInput)
    .query(({ ctx, input }) => listPlants(ctx.stores.db, ctx.siteId, input)),
  /** With the thresholds in force (and where each comes from), watering state, sensors and actuators. */
  get: siteProcedure("viewer")
    .input(plantIdInput)
    .query(({ ctx, input }) => getPlant(ctx.stores.db, ctx.siteId, input.plantId, ctx.now())),
  /** Is it OK, and if not, why: one plant, or every living plant of the site in one call (server/plants/status.ts). */
  status: siteProcedure("viewer")
    .input(plantStatusInput)
    .query(async ({ ctx, input }) => {
      const { items } = await plantStatuses({ db: ctx.stores.db, ch: ctx.stores.clickhouse, directory: ctx.directory, now: ctx.now() }, ctx.siteId, input.plantId);
      return { items };
    }),
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
  /** What to do and when, from the species' needs and the plant's measurements; each line says what it is based on. */
  carePlan: siteProcedure("viewer")
    .input(carePlanInput)
    .query(({ ctx, input }) => carePlanOf(analytics(ctx), ctx.siteId, input)),
  /** The plan's recurring lines as care tasks, one per line: a second call duplicates nothing. */
  applyCarePlan: siteProcedure("editor")
    .input(carePlanInput)
    .mutation(({ ctx, input }) => applyCarePlan(analytics(ctx), ctx.siteId, input, { userId: ctx.user.id })),
});
