import { heldLatest, queryLatest, type LatestColumns } from "../../clickhouse/analytics/latest";
import type { LatestOfList } from "../../clickhouse/mirror";
import type { LatestInput } from "../../shared/schemas/analytics";
import type { AnalyticsDeps } from "./deps";
import { staleAfterMs } from "./freshness";
import { siteScope, type ScopedSensor } from "./scope";
import { windowsOf } from "./windows";

/** The latest value of each sensor, in columns: entry i of every array is about the same sensor. */
export interface LatestValues {
  sensorId: string[];
  /** null for a sensor that never reported. */
  value: (number | null)[];
  /** Epoch ms of the reading; null for a sensor that never reported. */
  ts: (number | null)[];
  ageSeconds: (number | null)[];
  stale: boolean[];
}

/** What each sensor is (`withSensors`), in the same order as the values. */
export interface SensorColumns {
  deviceId: string[];
  deviceName: string[];
  key: string[];
  name: (string | null)[];
  metric: string[];
  unit: string[];
  plantId: (string | null)[];
  expectedReportIntervalSeconds: number[];
}

export interface LatestAnswer {
  at: number;
  values: LatestValues;
  /** Only with `withSensors: true`. */
  sensors?: SensorColumns;
}

export function sensorColumns(list: readonly ScopedSensor[]): SensorColumns {
  const columns: SensorColumns = { deviceId: [], deviceName: [], key: [], name: [], metric: [], unit: [], plantId: [], expectedReportIntervalSeconds: [] };
  for (const s of list) {
    columns.deviceId.push(s.deviceId);
    columns.deviceName.push(s.deviceName);
    columns.key.push(s.key);
    columns.name.push(s.name);
    columns.metric.push(s.metric);
    columns.unit.push(s.unit);
    columns.plantId.push(s.plantId);
    columns.expectedReportIntervalSeconds.push(s.expectedReportIntervalSeconds);
  }
  return columns;
}

/**
 * What every latest-values call on one list of sensors needs besides the values, made once per
 * list. A site's list is the site directory's own array, the same object until the site's facts
 * change; so a dashboard polling every few seconds builds this once: each sensor's place in the
 * answer, when its value turns stale, and (for `withSensors`) what each sensor is.
 */
export interface ListPlan {
  ids: string[];
  placeOf: Map<string, number>;
  staleAfterMs: Float64Array;
  columns?: SensorColumns;
}

const plans = new WeakMap<readonly ScopedSensor[], ListPlan>();
export function planOf(list: readonly ScopedSensor[]): ListPlan {
  let plan = plans.get(list);
  if (plan === undefined) {
    const ids = list.map((s) => s.id);
    plan = { ids, placeOf: new Map(ids.map((id, i) => [id, i])), staleAfterMs: Float64Array.from(list, (s) => staleAfterMs(s.expectedReportIntervalSeconds)) };
    plans.set(list, plan);
  }
  return plan;
}

/** Every sensor of the plan as never reported, for the readings to fill in. */
function neverReported(plan: ListPlan): LatestValues {
  const count = plan.ids.length;
  return {
    sensorId: plan.ids.slice(),
    value: new Array<number | null>(count).fill(null),
    ts: new Array<number | null>(count).fill(null),
    ageSeconds: new Array<number | null>(count).fill(null),
    stale: new Array<boolean>(count).fill(true),
  };
}

/** Sensor `place` of the plan read `value` at `ts`. */
function fillIn(values: LatestValues, plan: ListPlan, place: number, ts: number, value: number, now: number): void {
  const ageMs = now - ts;
  values.value[place] = value;
  values.ts[place] = ts;
  values.ageSeconds[place] = Math.round(ageMs / 1000);
  values.stale[place] = ageMs > plan.staleAfterMs[place]!;
}

/** The engine's latest rows (only sensors that reported, in any order) as the answer's columns, in the plan's order. */
export function lineUp(plan: ListPlan, latest: LatestColumns, now: number): LatestValues {
  const values = neverReported(plan);
  for (let row = 0; row < latest.sensor_id.length; row++) {
    const place = plan.placeOf.get(latest.sensor_id[row]!);
    if (place === undefined) continue; // not asked about: cannot happen (the query filters by the list)
    fillIn(values, plan, place, latest.t_ms[row]!, latest.v[row]!, now);
  }
  return values;
}

/** The same from the copy in memory, already in the plan's order (NaN where a sensor never reported). */
function lineUpHeld(plan: ListPlan, held: LatestOfList, now: number): LatestValues {
  const values = neverReported(plan);
  for (let i = 0; i < plan.ids.length; i++) if (!Number.isNaN(held.ts[i]!)) fillIn(values, plan, i, held.ts[i]!, held.value[i]!, now);
  return values;
}

/**
 * The latest value of every sensor of the site (or of some plants), with its age and staleness.
 * Dashboards poll this every few seconds for values whose sensors they already know, so the answer
 * is just the values, in columns (half the JSON of an object per sensor); `withSensors` adds what
 * each sensor is, for a first load, in the same order.
 */
export async function latestOf(deps: AnalyticsDeps, siteId: string, input: LatestInput): Promise<LatestAnswer> {
  const scope = await siteScope(deps, siteId, { plantIds: input.plantIds });
  const plan = planOf(scope.sensors);
  // By plant: only what each sensor measured since it has been the plant's (a value taken before it
  // was moved here is the previous plant's).
  const since = input.plantIds ? scope.sensors.map((s) => sinceAssigned(s)) : undefined;
  const held = since ? undefined : heldLatest(deps.ch, plan.ids);
  const now = deps.now.getTime();
  const values = held ? lineUpHeld(plan, await held, now) : lineUp(plan, await queryLatest(deps.ch, plan.ids, since), now);
  if (!input.withSensors) return { at: now, values };
  plan.columns ??= sensorColumns(scope.sensors);
  return { at: now, values, sensors: plan.columns };
}

/** Since when (epoch ms) the sensor has been its current plant's without a break; a very early instant when always. */
function sinceAssigned(sensor: ScopedSensor): number {
  const current = windowsOf(sensor, { plantId: sensor.plantId!, from: -Infinity, to: Infinity }).at(-1);
  return Number.isFinite(current?.from) ? current!.from : -Number.MAX_SAFE_INTEGER;
}
