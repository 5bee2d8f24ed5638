import { queryFleetSeries } from "../../clickhouse/analytics/fleet-series";
import { mirrorsOf, type BucketTotals } from "../../clickhouse/mirror";
import type { Source } from "../../clickhouse/analytics/sources";
import type { Metric } from "../../shared/metrics";
import { MAX_FLEET_CELLS, type Bucket, type FleetSeriesInput } from "../../shared/schemas/analytics";
import { AppError } from "../platform";
import type { AnalyticsDeps } from "./deps";
import { planOf, sensorColumns, type SensorColumns } from "./latest";
import { nextBucketStart, planSeries, rawRetentionStart, type SeriesPlan } from "./plan";
import { metricSensors } from "./metric-scope";

/**
 * Bucketed statistics of every sensor of a site that measures one metric, in one call: what a
 * fleet dashboard (a heat map of a greenhouse's soil moisture, daily averages of every room's
 * temperature) asks for, instead of one series call per 50 sensors. The bucket and its source
 * (raw, 1-minute or 1-hour rollup) are planned exactly as for a series (plan.ts).
 */

export interface FleetSeriesAnswer {
  from: number;
  to: number;
  bucket: Bucket;
  source: Source;
  timezone: string;
  metric: Metric;
  /** Bucket starts (epoch ms), shared by every sensor: entry j of each sensor's arrays is bucket t[j]. */
  t: number[];
  /**
   * One entry per sensor of the metric (also those without readings), entry i of every column
   * being about sensorId[i]; each holds one value per bucket, null (count 0) where it has no readings.
   */
  values: {
    sensorId: string[];
    avg: (number | null)[][];
    min: (number | null)[][];
    max: (number | null)[][];
    count: number[][];
  };
  /** Only with `withSensors: true`: what each sensor is, in the same order. */
  sensors?: SensorColumns;
}

export async function fleetSeriesOf(deps: AnalyticsDeps, siteId: string, input: FleetSeriesInput): Promise<FleetSeriesAnswer> {
  const scope = await metricSensors(deps, siteId, input.metric);
  const sensorCount = scope.sensors.length;
  // `auto` keeps the whole answer within the cap, not only each sensor's buckets.
  const maxPoints = Math.max(2, Math.min(input.maxPoints, Math.floor(MAX_FLEET_CELLS / Math.max(1, sensorCount))));
  const plan = planSeries(
    { from: input.from, to: input.to, bucket: input.bucket, maxPoints, percentiles: false },
    { timezone: scope.timezone, now: deps.now, rawRetentionDays: deps.rawRetentionDays },
  );
  const starts: number[] = [];
  for (let t = plan.from; t.getTime() < plan.to.getTime(); t = nextBucketStart(t, plan.kind, scope.timezone)) starts.push(t.getTime());
  if (starts.length * sensorCount > MAX_FLEET_CELLS) {
    throw new AppError(
      "BAD_REQUEST",
      `${sensorCount} sensors × ${starts.length} ${plan.bucket} buckets make ${starts.length * sensorCount} values, more than ${MAX_FLEET_CELLS}: choose a larger bucket or a shorter range`,
      { path: "bucket" },
    );
  }

  const list = planOf(scope.sensors);
  const buckets = starts.length;
  const grid = <T>(fill: T) => Array.from({ length: sensorCount }, () => new Array<T>(buckets).fill(fill));
  const avg = grid<number | null>(null);
  const min = grid<number | null>(null);
  const max = grid<number | null>(null);
  const count = grid<number>(0);
  const held = heldFleet(deps, plan, list.ids, starts);
  if (held) {
    for (const [id, totals] of await held) {
      const i = list.placeOf.get(id)!;
      for (let j = 0; j < buckets; j++) {
        const n = totals.count[j]!;
        if (n === 0) continue;
        avg[i]![j] = totals.sum[j]! / n;
        min[i]![j] = totals.min[j]!;
        max[i]![j] = totals.max[j]!;
        count[i]![j] = n;
      }
    }
  } else {
    const rows = await queryFleetSeries(deps.ch, { sensorIds: list.ids, from: plan.from, to: plan.to, source: plan.source, bucket: plan.kind, timezone: scope.timezone });
    // Fixed buckets are found by arithmetic; calendar ones (days of 23 or 25 hours) by their start.
    const step = plan.kind.kind === "fixed" ? plan.kind.seconds * 1000 : 0;
    const first = plan.from.getTime();
    const calendar = step === 0 ? new Map(starts.map((t, j) => [t, j])) : undefined;
    for (let row = 0; row < rows.sensor_id.length; row++) {
      const i = list.placeOf.get(rows.sensor_id[row]!) ?? -1;
      const t = rows.t[row]! * 1000;
      const j = calendar ? (calendar.get(t) ?? -1) : (t - first) / step;
      if (i < 0 || j < 0 || j >= buckets) continue; // cannot happen: the query filters by these ids and this range
      avg[i]![j] = rows.mean[row]!;
      min[i]![j] = rows.lo[row]!;
      max[i]![j] = rows.hi[row]!;
      count[i]![j] = Number(rows.n[row]!);
    }
  }
  const answer: FleetSeriesAnswer = {
    from: plan.from.getTime(),
    to: plan.to.getTime(),
    bucket: plan.bucket,
    source: plan.source,
    timezone: scope.timezone,
    metric: input.metric,
    t: starts,
    values: { sensorId: list.ids.slice(), avg, min, max, count },
  };
  if (input.withSensors) {
    list.columns ??= sensorColumns(scope.sensors);
    answer.sensors = list.columns;
  }
  return answer;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Above this many buckets in one call (sensors × buckets of the copy's size) the engine aggregates instead: the copy would not hold them. */
const MAX_HELD_BUCKETS = 200_000;

/**
 * A fleet's recent buckets come from the chart buckets kept in memory by ingest
 * (clickhouse/mirror/series.ts), loading those not held yet: fixed buckets as they are, calendar
 * days, weeks and months summed from hourly ones when they start on whole hours (every time zone
 * but the half- and quarter-hour ones). Undefined where it cannot answer: another store, a range
 * reaching back to within a day of the raw retention's end, or too many buckets to hold.
 */
function heldFleet(deps: AnalyticsDeps, plan: SeriesPlan, sensorIds: string[], starts: number[]): Promise<Map<string, BucketTotals>> | undefined {
  const mirror = mirrorsOf(deps.ch)?.series;
  const from = plan.from.getTime();
  const to = plan.to.getTime();
  if (!mirror || sensorIds.length === 0 || starts.length === 0) return undefined;
  if (from < rawRetentionStart(deps.now, deps.rawRetentionDays).getTime() + DAY_MS) return undefined;
  const step = plan.kind.kind === "fixed" ? plan.kind.seconds * 1000 : HOUR_MS;
  if (plan.kind.kind !== "fixed" && (starts.some((t) => t % HOUR_MS !== 0) || to % HOUR_MS !== 0)) return undefined;
  if (sensorIds.length * Math.ceil((to - from) / step) > MAX_HELD_BUCKETS) return undefined;
  return mirror.totals(sensorIds, step, starts, to);
}
