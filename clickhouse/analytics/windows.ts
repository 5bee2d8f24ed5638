import type { Clickhouse } from "../client";
import { sourceTable, SOURCE_SECONDS, type Source } from "./sources";

/**
 * Per-sensor time windows: which of a sensor's readings a query may use. A plant's analytics read
 * each sensor only while it was assigned to the plant (and, by metric, only while it measured that
 * metric), so the server passes `(sensor, from, to)` windows instead of bare sensor ids.
 *
 * Each window becomes `sensor_id = … AND ts >= … AND ts < …`, OR-ed together: conditions on the
 * table's sorting key `(sensor_id, ts)`, so ClickHouse's primary-key analysis still selects only
 * the granules of each sensor's own range (what `sensor_id IN ids AND ts BETWEEN` did before).
 *
 * Rollups hold whole minutes or hours, while a sensor moves at any instant. A window is served by
 * the rollup for the buckets it covers whole, and by raw readings (aggregated into the same
 * buckets) for the partial bucket at each end, so a bucket shared by two plants is split exactly.
 * Where the raw readings of such a bucket are gone (older than the raw retention), the whole bucket
 * goes to the window that holds its start: still every reading once, the split to the bucket.
 */

/** `[from, to)` of one sensor's readings, epoch ms. */
export interface ReadingWindow {
  sensorId: string;
  from: number;
  to: number;
}

/** Where a query's rows come from: `SELECT … FROM ${from} WHERE ${where}`, with its parameters. */
export interface RowSource {
  from: string;
  where: string;
  params: Record<string, unknown>;
}

const RAW_RANGE = "DateTime64(3, 'UTC')";
const ROLLUP_RANGE = "DateTime('UTC')";

/** OR of per-window conditions on `column`; `prefix` keeps parameter names apart when a query has several sources. */
function windowCondition(windows: readonly ReadingWindow[], column: "ts" | "bucket", prefix: string, params: Record<string, unknown>): string {
  const type = column === "ts" ? RAW_RANGE : ROLLUP_RANGE;
  return windows
    .map((w, i) => {
      const p = `${prefix}${i}`;
      params[`${p}s`] = w.sensorId;
      // DateTime64 takes fractional seconds, DateTime whole ones (rollup windows are on the grid).
      params[`${p}f`] = column === "ts" ? w.from / 1000 : Math.floor(w.from / 1000);
      params[`${p}t`] = column === "ts" ? w.to / 1000 : Math.ceil(w.to / 1000);
      return `(sensor_id = {${p}s:UUID} AND ${column} >= {${p}f:${type}} AND ${column} < {${p}t:${type}})`;
    })
    .join(" OR ");
}

/** Raw readings inside the windows. */
export function rawWindowRows(ch: Clickhouse, windows: readonly ReadingWindow[], prefix = "w"): RowSource {
  const params: Record<string, unknown> = {};
  return { from: sourceTable(ch, "raw"), where: windows.length ? `(${windowCondition(windows, "ts", prefix, params)})` : "0", params };
}

/** The parts of a window: whole buckets from the rollup, partial ones from raw readings. */
export function splitWindow(w: ReadingWindow, gridMs: number, rawStart: number): { rollup: ReadingWindow | null; raw: ReadingWindow[] } {
  const floor = (t: number) => Math.floor(t / gridMs) * gridMs;
  const ceil = (t: number) => Math.ceil(t / gridMs) * gridMs;
  // The bucket around a boundary is split from raw readings only if all of it is still raw; the
  // windows on both sides of the boundary judge it alike, so no reading is counted twice.
  const headRaw = floor(w.from) >= rawStart;
  const tailRaw = floor(w.to) >= rawStart;
  const first = ceil(w.from);
  if (first >= w.to) {
    // Inside one bucket: raw, or (raw gone) nothing, since the bucket starts before the window.
    return { rollup: null, raw: headRaw ? [w] : [] };
  }
  const raw: ReadingWindow[] = [];
  if (first > w.from && headRaw) raw.push({ sensorId: w.sensorId, from: w.from, to: first });
  const rollupEnd = tailRaw ? floor(w.to) : ceil(w.to);
  if (floor(w.to) < w.to && tailRaw) raw.push({ sensorId: w.sensorId, from: floor(w.to), to: w.to });
  return { rollup: rollupEnd > first ? { sensorId: w.sensorId, from: first, to: rollupEnd } : null, raw };
}

/**
 * Rows shaped like the rollup's (`sensor_id, bucket, min_value, max_value, sum_value, count,
 * last_value`) for the windows: the rollup's rows for whole buckets, raw readings aggregated into
 * the same buckets for the partial ones at the windows' ends. Callers re-aggregate by bucket, as
 * they must for the rollup anyway (its rows of one bucket may not be merged yet).
 */
export function rollupWindowRows(ch: Clickhouse, source: "1m" | "1h", windows: readonly ReadingWindow[], rawStart: number, prefix = "w"): RowSource {
  const grid = SOURCE_SECONDS[source];
  const rollupWindows: ReadingWindow[] = [];
  const rawWindows: ReadingWindow[] = [];
  for (const w of windows) {
    const parts = splitWindow(w, grid * 1000, rawStart);
    if (parts.rollup) rollupWindows.push(parts.rollup);
    rawWindows.push(...parts.raw);
  }
  const params: Record<string, unknown> = {};
  const branches: string[] = [];
  if (rollupWindows.length) {
    branches.push(`SELECT sensor_id, bucket, min_value, max_value, sum_value, count, last_value
FROM ${sourceTable(ch, source)}
WHERE ${windowCondition(rollupWindows, "bucket", `${prefix}r`, params)}`);
  }
  if (rawWindows.length) {
    params[`${prefix}g`] = grid;
    branches.push(`SELECT sensor_id, toDateTime(intDiv(toUnixTimestamp(ts), {${prefix}g:UInt32}) * {${prefix}g:UInt32}, 'UTC') AS bucket,
       min(value) AS min_value, max(value) AS max_value, sum(value) AS sum_value, count() AS count, argMaxState(value, ts) AS last_value
FROM ${sourceTable(ch, "raw")}
WHERE ${windowCondition(rawWindows, "ts", `${prefix}e`, params)}
GROUP BY sensor_id, bucket`);
  }
  if (branches.length === 0) return { from: sourceTable(ch, source), where: "0", params };
  return { from: `(${branches.join("\nUNION ALL\n")})`, where: "1", params };
}

/** The rows of `source` inside the windows. */
export function windowRows(ch: Clickhouse, source: Source, windows: readonly ReadingWindow[], rawStart: number, prefix = "w"): RowSource {
  return source === "raw" ? rawWindowRows(ch, windows, prefix) : rollupWindowRows(ch, source, windows, rawStart, prefix);
}
