import { queryCrossing, type CrossingColumns, type CrossingQuery, type WindowPiece } from "../../clickhouse/analytics/crossing";
import type { Clickhouse } from "../../clickhouse/client";
import { aggregateValue, mirrorsOf } from "../../clickhouse/mirror";
import type { CrossingInput } from "../../shared/schemas/analytics";
import { AppError } from "../platform";
import type { AnalyticsDeps } from "./deps";
import { rawRetentionStart } from "./plan";
import { metricSensors } from "./metric-scope";

/**
 * Which of a site's sensors of one metric have an aggregate (avg, min or max) over a window below
 * or above a bound: what an aggregate rule evaluates (server/pipelines/automation/engine.ts), for every
 * sensor in one call, with the same window (closed, [from, to]) and the same strict comparison.
 */

const MINUTE = 60_000;
const HOUR = 3_600_000;
/**
 * Windows up to an hour (an aggregate rule's are usually 5–60 minutes) are read from raw readings
 * alone: each table a query reads costs a fixed few milliseconds for a fleet's ids (measured here:
 * 7–9 ms per table for 200 sensors, about what reading 30 minutes of them raw costs in all),
 * while an hour holds at most 60 raw rows per sensor reporting every minute.
 */
const RAW_ONLY_UP_TO_MS = 3_600_000;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

/**
 * The window [from, to] (epoch ms, to included) cut into pieces that each source can serve
 * exactly: whole hours from the hourly rollup, whole minutes around them from the minute rollup,
 * and the part-minutes at the edges from raw readings (an hour or less within the raw retention,
 * which starts at `rawStart`: raw readings only). Every instant of the window is in exactly
 * one piece, so every reading is counted once, and a month-long window reads 720 hourly rows per
 * sensor instead of 43,200 raw ones. Pure: testable without stores.
 */
export function windowPieces(from: number, to: number, rawStart: number): WindowPiece[] {
  const end = to + 1; // readings have millisecond times: [from, to] is [from, to + 1 ms)
  const pieces: WindowPiece[] = [];
  if (end - from <= RAW_ONLY_UP_TO_MS && from >= rawStart) return [{ source: "raw", from, to: end }];
  const add = (source: WindowPiece["source"], a: number, b: number) => {
    if (b > a) pieces.push({ source, from: a, to: b });
  };
  const m0 = ceilTo(from, MINUTE);
  const m1 = floorTo(end, MINUTE);
  if (m0 >= m1) {
    add("raw", from, end);
    return pieces;
  }
  const h0 = ceilTo(m0, HOUR);
  const h1 = floorTo(m1, HOUR);
  add("raw", from, m0);
  if (h0 >= h1) {
    add("1m", m0, m1);
  } else {
    add("1m", m0, h0);
    add("1h", h0, h1);
    add("1m", h1, m1);
  }
  add("raw", m1, end);
  return pieces;
}

/**
 * Raw readings older than the retention are gone: a raw piece there would silently count fewer
 * readings. Only the window's edges are ever read raw, so a window that starts (or ends) within
 * a minute whose raw readings are gone is refused, naming the edge to move onto a whole minute.
 */
function checkRawEdges(pieces: WindowPiece[], rawStart: number, rawDays: number, input: { from: Date; to: Date }) {
  for (const piece of pieces) {
    if (piece.source !== "raw" || piece.from >= rawStart) continue;
    const edge = piece.from === input.from.getTime() ? "from" : "to";
    throw new AppError(
      "BAD_REQUEST",
      `raw readings are kept ${rawDays} days and ${edge} is not on a whole minute: ` +
        (edge === "from" ? "start the window on a whole minute" : "end the window 1 ms before a whole minute") +
        ` or after ${new Date(rawStart).toISOString()}`,
      { path: edge },
    );
  }
}

export interface CrossingAnswer {
  from: number;
  /** Included: the window is [from, to]. */
  to: number;
  metric: string;
  aggregate: CrossingInput["aggregate"];
  comparison: CrossingInput["comparison"];
  threshold: number;
  /** How many sensors of the metric the site has (a sensor without readings in the window never crosses). */
  sensors: number;
  /** The crossing sensors in columns, most extreme first: the aggregate and the readings it is over. */
  values: { sensorId: string[]; value: number[]; count: number[] };
}

export async function crossingOf(deps: AnalyticsDeps, siteId: string, input: CrossingInput): Promise<CrossingAnswer> {
  const scope = await metricSensors(deps, siteId, input.metric);
  const from = input.from.getTime();
  const to = input.to.getTime();
  const rawStart = rawRetentionStart(deps.now, deps.rawRetentionDays).getTime();
  const pieces = windowPieces(from, to, rawStart);
  checkRawEdges(pieces, rawStart, deps.rawRetentionDays, input);
  const ids = scope.sensors.map((s) => s.id);
  const query = { sensorIds: ids, pieces, aggregate: input.aggregate, comparison: input.comparison, threshold: input.threshold };
  const crossing = (await heldCrossing(deps.ch, query)) ?? (await queryCrossing(deps.ch, query));
  return {
    from,
    to,
    metric: input.metric,
    aggregate: input.aggregate,
    comparison: input.comparison,
    threshold: input.threshold,
    sensors: ids.length,
    values: { sensorId: crossing.sensor_id, value: crossing.v, count: crossing.n },
  };
}

/**
 * A window read from raw readings alone (an hour or less) comes from the recent readings kept in
 * memory by ingest (clickhouse/mirror/recent.ts), loading the sensors not held yet; sensors
 * reporting too often to hold are asked of the engine. Undefined where there is no such copy
 * (a ClickHouse server) or the window reaches into the rollups.
 */
async function heldCrossing(ch: Clickhouse, q: CrossingQuery): Promise<CrossingColumns | undefined> {
  const recent = mirrorsOf(ch)?.recent;
  const [piece, ...others] = q.pieces;
  if (!recent || !piece || others.length > 0 || piece.source !== "raw" || q.sensorIds.length === 0) return undefined;
  const { aggregates, unheld } = await recent.aggregates(q.sensorIds, piece.from, piece.to);
  const rows: { id: string; v: number; n: number }[] = [];
  for (const [id, a] of aggregates) {
    if (a.count === 0) continue;
    const v = aggregateValue(a, q.aggregate);
    if (q.comparison === "below" ? v < q.threshold : v > q.threshold) rows.push({ id, v, n: a.count });
  }
  if (unheld.length > 0) {
    const rest = await queryCrossing(ch, { ...q, sensorIds: unheld });
    rest.sensor_id.forEach((id, i) => rows.push({ id, v: rest.v[i]!, n: rest.n[i]! }));
  }
  // Most extreme first, as the engine orders them; ties by id.
  const sign = q.comparison === "below" ? 1 : -1;
  rows.sort((a, b) => sign * (a.v - b.v) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { sensor_id: rows.map((r) => r.id), v: rows.map((r) => r.v), n: rows.map((r) => r.n) };
}
