import { queryChart, querySeries, type SeriesColumns, type SeriesQuery, type Windows } from "../../clickhouse/analytics/series";
import { mirrorsOf, type HeldBuckets } from "../../clickhouse/mirror";
import type { ChartInput, SeriesInput } from "../../shared/schemas/analytics";
import type { AnalyticsDeps } from "./deps";
import { planSeries, rawRetentionStart, type SeriesPlan } from "./plan";
import { inRange, selectedSensors, type ScopedSensor, type Selection } from "./scope";
import { spanAt, timelineOf } from "./windows";

/**
 * Bucketed series and downsampled chart points for one site's sensors. By plant, each sensor's
 * readings count only inside its windows with the plant and metric: a sensor moved to another
 * plant, or set to measure something else, keeps its earlier readings where they were taken.
 */

/**
 * A sensor's buckets as columns, index i of each array describing the same bucket: the shape chart
 * libraries take (uPlot, ECharts datasets, Chart.js data arrays), and a third of the JSON of one
 * object per bucket, which for a year of hourly buckets is most of a call's cost above the query.
 */
export interface SeriesBuckets extends HeldBuckets {
  /** Only with `percentiles: true` (computed from raw readings). */
  p50?: number[];
  p90?: number[];
}

function emptyBuckets(percentiles: boolean): SeriesBuckets {
  const columns: SeriesBuckets = { t: [], avg: [], min: [], max: [], count: [], last: [] };
  if (percentiles) Object.assign(columns, { p50: [], p90: [] });
  return columns;
}

/** Rows start..end of a series query (one sensor's) as that sensor's buckets. */
function bucketsOf(c: SeriesColumns, start: number, end: number, percentiles: boolean): SeriesBuckets {
  const buckets: SeriesBuckets = {
    t: c.t.slice(start, end).map((seconds) => seconds * 1000),
    avg: c.mean.slice(start, end),
    min: c.lo.slice(start, end),
    max: c.hi.slice(start, end),
    count: c.n.slice(start, end),
    last: c.last_v.slice(start, end),
  };
  if (percentiles) {
    const pct = c.pct.slice(start, end);
    buckets.p50 = pct.map((p) => p[0]!);
    buckets.p90 = pct.map((p) => p[1]!);
  }
  return buckets;
}

interface SensorEntry {
  sensorId: string;
  deviceId: string;
  key: string;
  name: string | null;
  metric: string;
  unit: string;
  plantId: string | null;
  /** By plant: the spans of the range whose readings are the plant's, epoch ms. */
  windows?: { from: number; to: number }[];
}

/** What each series is about. By plant: that plant and metric, the unit the readings had, and the windows read. */
function sensorEntries(scope: Selection, from: Date, to: Date, rawStart: number): { sensors: readonly ScopedSensor[]; entry: (s: ScopedSensor) => SensorEntry; windows?: Windows } {
  const base = (s: ScopedSensor): SensorEntry => ({ sensorId: s.id, deviceId: s.deviceId, key: s.key, name: s.name, metric: s.metric, unit: s.unit, plantId: s.plantId });
  if (!scope.plant) return { sensors: scope.sensors, entry: base };
  const plant = scope.plant;
  const range = inRange({ ...scope, plant }, from, to);
  return {
    sensors: range.sensors,
    windows: { list: range.windows, rawStart },
    entry: (s) => {
      const windows = range.windowsOf.get(s.id)!;
      const latest = spanAt(timelineOf(s), windows.at(-1)!.from);
      return { ...base(s), plantId: plant.plantId, metric: latest.metric, unit: latest.unit, windows: windows.map((w) => ({ from: w.from, to: w.to })) };
    },
  };
}

export async function seriesOf(deps: AnalyticsDeps, siteId: string, input: SeriesInput) {
  const scope = await selectedSensors(deps, siteId, input);
  const plan = planSeries(input, { timezone: scope.timezone, now: deps.now, rawRetentionDays: deps.rawRetentionDays });
  const rawStart = rawRetentionStart(deps.now, deps.rawRetentionDays).getTime();
  const selected = sensorEntries(scope, plan.from, plan.to, rawStart);
  const query: SeriesQuery = {
    sensorIds: selected.sensors.map((s) => s.id),
    from: plan.from,
    to: plan.to,
    source: plan.source,
    bucket: plan.kind,
    timezone: scope.timezone,
    percentiles: input.percentiles,
    windows: selected.windows,
  };
  const buckets = new Map<string, SeriesBuckets>();
  const held = heldSeries(deps, plan, query, rawStart, scope);
  if (held) {
    for (const [id, b] of await held) buckets.set(id, b);
  } else if (query.sensorIds.length > 0) {
    // Rows come ordered by sensor: each sensor's buckets are one run of rows, taken as slices.
    const columns = await querySeries(deps.ch, query);
    const ids = columns.sensor_id;
    for (let start = 0, end = 0; start < ids.length; start = end) {
      while (end < ids.length && ids[end] === ids[start]) end++;
      buckets.set(ids[start]!, bucketsOf(columns, start, end, input.percentiles));
    }
  }
  return {
    from: plan.from.getTime(),
    to: plan.to.getTime(),
    bucket: plan.bucket,
    source: plan.source,
    timezone: scope.timezone,
    series: selected.sensors.map((s) => ({ ...selected.entry(s), buckets: buckets.get(s.id) ?? emptyBuckets(input.percentiles) })),
  };
}

/**
 * Fixed buckets of whole sensors over recent days (a dashboard's charts) come from the copy kept
 * in memory by ingest (clickhouse/mirror/series.ts), loading the sensors it does not hold yet;
 * undefined where it cannot answer: another store, calendar buckets, percentiles, a plant's
 * windows, or a range reaching back to within a day of the raw retention's end (the copy is
 * loaded from raw readings, which expire there).
 */
function heldSeries(deps: AnalyticsDeps, plan: SeriesPlan, query: SeriesQuery, rawStart: number, scope: Selection): Promise<Map<string, SeriesBuckets>> | undefined {
  const mirror = mirrorsOf(deps.ch)?.series;
  if (!mirror || plan.kind.kind !== "fixed" || query.percentiles || query.windows || query.sensorIds.length === 0) return undefined;
  const from = plan.from.getTime();
  if (from < rawStart + DAY_MS) return undefined;
  const step = plan.kind.seconds * 1000;
  const to = plan.to.getTime();
  const held = mirror.read(query.sensorIds, step, from, to);
  const missing = query.sensorIds.filter((id) => !held.has(id));
  if (missing.length === 0) return Promise.resolve(held);
  const companions = companionsOf(scope, missing).filter((id) => !mirror.holds(id, step, from));
  return mirror.load(missing, step, from, to, companions).then((loaded) => new Map([...held, ...loaded]));
}

/** Devices with more sensors than this (gateways, bridges) have their charts loaded one by one. */
const COMPANIONS_PER_DEVICE = 16;

/**
 * The other sensors of the devices of the charts being loaded. A device's sensors tend to be
 * charted together (a panel per sensor of a bed or a device, each panel its own call), and loading
 * them in the same query costs little more than one: the embedded engine's price is per query (5–7
 * ms for any read of the readings table) much more than per sensor of a device reporting every
 * few seconds. So the device's next chart is answered from memory.
 */
function companionsOf(scope: Selection, missing: readonly string[]): string[] {
  if (!scope.sensorsByDevice) return [];
  const asked = new Map(scope.sensors.map((s) => [s.id, s]));
  const devices = new Set(missing.map((id) => asked.get(id)!.deviceId));
  const companions: string[] = [];
  for (const deviceId of devices) {
    const sensors = scope.sensorsByDevice.get(deviceId);
    if (!sensors || sensors.size > COMPANIONS_PER_DEVICE) continue;
    for (const sensor of sensors.values()) if (!asked.has(sensor.id)) companions.push(sensor.id);
  }
  return companions;
}

const DAY_MS = 86_400_000;

/** Chart points as columns, like a series' buckets: epoch ms and values. */
export interface ChartPoints {
  t: number[];
  v: number[];
}

export async function chartOf(deps: AnalyticsDeps, siteId: string, input: ChartInput) {
  const scope = await selectedSensors(deps, siteId, input);
  // Raw readings while they exist; beyond the raw retention the hourly min/max envelope.
  const rawStart = rawRetentionStart(deps.now, deps.rawRetentionDays).getTime();
  const source = input.from.getTime() >= rawStart ? "raw" : "1h";
  const selected = sensorEntries(scope, input.from, input.to, rawStart);
  const query = { sensorIds: selected.sensors.map((s) => s.id), from: input.from, to: input.to, source, points: input.points, windows: selected.windows } as const;
  const points = new Map<string, ChartPoints>();
  if (query.sensorIds.length > 0) {
    const chart = await queryChart(deps.ch, query);
    chart.sensor_id.forEach((id, row) => points.set(id, { t: chart.t[row]!, v: chart.v[row]! }));
  }
  return {
    from: input.from.getTime(),
    to: input.to.getTime(),
    source,
    series: selected.sensors.map((s) => ({
      ...selected.entry(s),
      points: points.get(s.id) ?? { t: [], v: [] },
    })),
  };
}
