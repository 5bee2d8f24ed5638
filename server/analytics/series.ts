import { queryChart, querySeries } from "../../clickhouse/analytics/series";
import type { ChartInput, SeriesInput } from "../../shared/schemas/analytics";
import type { AnalyticsDeps } from "./deps";
import { num } from "./deps";
import { planSeries, rawRetentionStart } from "./plan";
import { selectedSensors, type ScopedSensor } from "./scope";

/** Bucketed series and downsampled chart points for one site's sensors. */

/**
 * A sensor's buckets as columns, index i of each array describing the same bucket: the shape chart
 * libraries take (uPlot, ECharts datasets, Chart.js data arrays), and a third of the JSON of one
 * object per bucket, which for a year of hourly buckets is most of a call's cost above the query.
 */
export interface SeriesBuckets {
  /** Bucket starts, epoch ms, ascending. */
  t: number[];
  avg: number[];
  min: number[];
  max: number[];
  count: number[];
  /** The value of each bucket's newest reading. */
  last: number[];
  /** Only with `percentiles: true` (computed from raw readings). */
  p50?: number[];
  p90?: number[];
}

function emptyBuckets(percentiles: boolean): SeriesBuckets {
  const columns: SeriesBuckets = { t: [], avg: [], min: [], max: [], count: [], last: [] };
  if (percentiles) Object.assign(columns, { p50: [], p90: [] });
  return columns;
}

const sensorView = (s: ScopedSensor) => ({
  sensorId: s.id,
  deviceId: s.deviceId,
  key: s.key,
  name: s.name,
  metric: s.metric,
  unit: s.unit,
  plantId: s.plantId,
});

export async function seriesOf(deps: AnalyticsDeps, siteId: string, input: SeriesInput) {
  const scope = await selectedSensors(deps, siteId, input);
  const plan = planSeries(input, { timezone: scope.timezone, now: deps.now, rawRetentionDays: deps.rawRetentionDays });
  const rows = scope.sensors.length
    ? await querySeries(deps.ch, {
        sensorIds: scope.sensors.map((s) => s.id),
        from: plan.from,
        to: plan.to,
        source: plan.source,
        bucket: plan.kind,
        timezone: scope.timezone,
        percentiles: input.percentiles,
      })
    : [];
  const buckets = new Map(scope.sensors.map((s) => [s.id, emptyBuckets(input.percentiles)]));
  for (const r of rows) {
    const b = buckets.get(r.sensor_id);
    if (!b) continue;
    b.t.push(r.t * 1000);
    b.avg.push(r.mean);
    b.min.push(r.lo);
    b.max.push(r.hi);
    b.count.push(num(r.n));
    b.last.push(r.last_v);
    b.p50?.push(r.pct[0]!);
    b.p90?.push(r.pct[1]!);
  }
  return {
    from: plan.from.getTime(),
    to: plan.to.getTime(),
    bucket: plan.bucket,
    source: plan.source,
    timezone: scope.timezone,
    series: scope.sensors.map((s) => ({ ...sensorView(s), buckets: buckets.get(s.id)! })),
  };
}

export async function chartOf(deps: AnalyticsDeps, siteId: string, input: ChartInput) {
  const scope = await selectedSensors(deps, siteId, input);
  // Raw readings while they exist; beyond the raw retention the hourly min/max envelope.
  const source = input.from.getTime() >= rawRetentionStart(deps.now, deps.rawRetentionDays).getTime() ? "raw" : "1h";
  const rows = scope.sensors.length
    ? await queryChart(deps.ch, { sensorIds: scope.sensors.map((s) => s.id), from: input.from, to: input.to, source, points: input.points })
    : [];
  const bySensor = new Map(rows.map((r) => [r.sensor_id, r.points]));
  // Columns like a series' buckets: { t: epoch ms[], v: value[] }.
  const columns = (points: [number | string, number][] = []) => ({ t: points.map(([t]) => num(t)), v: points.map(([, v]) => v) });
  return {
    from: input.from.getTime(),
    to: input.to.getTime(),
    source,
    series: scope.sensors.map((s) => ({
      ...sensorView(s),
      points: columns(bySensor.get(s.id)),
    })),
  };
}
