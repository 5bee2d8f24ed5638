import { queryChart, querySeries } from "../../clickhouse/analytics/series";
import type { ChartInput, SeriesInput } from "../../shared/schemas/analytics";
import type { AnalyticsDeps } from "./deps";
import { num } from "./deps";
import { planSeries, rawRetentionStart } from "./plan";
import { selectedSensors, type ScopedSensor } from "./scope";

/** Bucketed series and downsampled chart points for one site's sensors. */

export interface SeriesPoint {
  /** Bucket start, epoch ms. */
  t: number;
  avg: number;
  min: number;
  max: number;
  count: number;
  /** The value of the bucket's newest reading. */
  last: number;
  /** Only with `percentiles: true` (raw readings); null otherwise. */
  p50: number | null;
  p90: number | null;
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
  const points = new Map<string, SeriesPoint[]>(scope.sensors.map((s) => [s.id, []]));
  for (const r of rows) {
    points.get(r.sensor_id)?.push({
      t: r.t * 1000,
      avg: r.mean,
      min: r.lo,
      max: r.hi,
      count: num(r.n),
      last: r.last_v,
      p50: r.pct[0] ?? null,
      p90: r.pct[1] ?? null,
    });
  }
  return {
    from: plan.from.getTime(),
    to: plan.to.getTime(),
    bucket: plan.bucket,
    source: plan.source,
    timezone: scope.timezone,
    series: scope.sensors.map((s) => ({ ...sensorView(s), points: points.get(s.id)! })),
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
  return {
    from: input.from.getTime(),
    to: input.to.getTime(),
    source,
    series: scope.sensors.map((s) => ({
      ...sensorView(s),
      points: (bySensor.get(s.id) ?? []).map(([t, v]) => ({ t: num(t), v })),
    })),
  };
}
