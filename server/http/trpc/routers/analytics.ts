import { chartInput, crossingInput, deviceHealthInput, fleetInput, fleetSeriesInput, latestInput, plantMetricsInput, seriesInput } from "../../../../shared/schemas/analytics";
import { type AnalyticsDeps, chartOf, crossingOf, deviceHealthOf, fleetOverviewOf, fleetSeriesOf, latestOf, plantMetricsOf, seriesOf } from "../../../analytics";
import type { Context } from "../context";
import { plainJson } from "../../../../shared/transformer";
import { router, siteProcedure } from "../core";

const deps = (ctx: Context): AnalyticsDeps => ({
  db: ctx.stores.db,
  ch: ctx.stores.clickhouse,
  directory: ctx.directory,
  rawRetentionDays: ctx.stores.retention.rawDays,
  now: ctx.now(),
});

/**
 * Read-only analytics over a site's readings; any member may read (server/analytics does the work).
 * Series, charts and latest values are numbers straight from ClickHouse: `plainJson` sends them
 * without the transformer's walk.
 */
export const analyticsRouter = router({
  series: siteProcedure("viewer")
    .input(seriesInput)
    .query(async ({ ctx, input }) => plainJson(await seriesOf(deps(ctx), ctx.siteId, input))),
  chart: siteProcedure("viewer")
    .input(chartInput)
    .query(async ({ ctx, input }) => plainJson(await chartOf(deps(ctx), ctx.siteId, input))),
  latest: siteProcedure("viewer")
    .input(latestInput)
    .query(async ({ ctx, input }) => plainJson(await latestOf(deps(ctx), ctx.siteId, input))),
  plantMetrics: siteProcedure("viewer")
    .input(plantMetricsInput)
    .query(({ ctx, input }) => plantMetricsOf(deps(ctx), ctx.siteId, input)),
  deviceHealth: siteProcedure("viewer")
    .input(deviceHealthInput)
    .query(({ ctx, input }) => deviceHealthOf(deps(ctx), ctx.siteId, input)),
  fleet: siteProcedure("viewer")
    .input(fleetInput)
    .query(({ ctx, input }) => fleetOverviewOf(deps(ctx), ctx.siteId, input)),
  // Fleet-wide: every sensor of the site measuring a metric, in one call (docs/analytics-fleet.md).
  fleetSeries: siteProcedure("viewer")
    .input(fleetSeriesInput)
    .query(async ({ ctx, input }) => plainJson(await fleetSeriesOf(deps(ctx), ctx.siteId, input))),
  crossing: siteProcedure("viewer")
    .input(crossingInput)
    .query(async ({ ctx, input }) => plainJson(await crossingOf(deps(ctx), ctx.siteId, input))),
});
