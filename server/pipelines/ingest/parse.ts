import { isMetric, type Metric } from "../../../shared/metrics";
import { BATCH_ID_PATTERN, EARLIEST_READING_TS, SENSOR_KEY_PATTERN } from "../../../shared/schemas/device";
import { MAX_ABS_VALUE, MAX_ABS_VALUE_TEXT } from "../../../shared/values";

/**
 * Validates a device batch, in either wire form:
 *   rows:     { batchId, attempt?, readings: [{ sensor, value, ts?, metric? }, …] }
 *   columnar: { batchId, attempt?, sensor, metric?, value: [v, …], ts?: [t, …] }   (one sensor, for small MCUs)
 * Every problem is reported with the reading's index; a batch with any problem is refused whole.
 * The contract is shared/schemas/device.ts; this is its hand-written twin for the hot path (zod
 * over a thousand readings costs more than the rest of ingest), held to it by a test: plain loops,
 * no per-reading allocation beyond the parsed reading itself.
 */

export interface ParsedReading {
  sensor: string;
  /** Epoch milliseconds. */
  ts: number;
  value: number;
  metric: Metric | undefined;
}

export interface ParsedBatch {
  batchId: string;
  /** Which attempt at sending this batch the device says this is (1 = first), if it says. */
  attempt: number | undefined;
  readings: ParsedReading[];
  /** Every reading carried its own ts (the others got the server's time). */
  timestamped: boolean;
}

export interface Rejection {
  /** Index of the reading in the batch, or -1 for the batch itself. */
  index: number;
  reason: string;
}

export type ParseResult =
  | { ok: true; batch: ParsedBatch }
  | { ok: false; status: 400 | 413; error: string; batchId: string | undefined; rejected: Rejection[] };

export interface ParseLimits {
  maxReadings: number;
  maxClockSkewMs: number;
  /**
   * Oldest accepted reading, as an age. Raw readings past their retention are dropped by
   * ClickHouse on insert, so a retry of such a batch could not be recognised: refuse them instead.
   */
  maxAgeMs: number;
}

const BATCH_ID = BATCH_ID_PATTERN;
const SENSOR_KEY = SENSOR_KEY_PATTERN;
const MIN_TS = EARLIEST_READING_TS;
/** Stop listing problems after this many: the device is clearly sending something else. */
const MAX_LISTED = 100;

function fail(error: string, batchId: string | undefined, rejected: Rejection[], status: 400 | 413 = 400): ParseResult {
  return { ok: false, status, error, batchId, rejected };
}

export function parseBatch(body: unknown, now: number, limits: ParseLimits): ParseResult {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return fail("the body must be a JSON object with batchId and readings", undefined, [{ index: -1, reason: "not an object" }]);
  }
  const b = body as Record<string, unknown>;
  const batchId = typeof b.batchId === "string" && BATCH_ID.test(b.batchId) ? b.batchId : undefined;
  if (!batchId) {
    return fail("batchId is required: 1-128 characters of letters, digits and . _ : -", undefined, [
      { index: -1, reason: "batchId missing or malformed" },
    ]);
  }
  if (b.attempt !== undefined && (typeof b.attempt !== "number" || !Number.isInteger(b.attempt) || b.attempt < 1)) {
    return fail("attempt must be a whole number from 1 (the first try of this batch)", batchId, [{ index: -1, reason: "attempt malformed" }]);
  }
  const attempt = b.attempt as number | undefined;
  const count = Array.isArray(b.readings) ? b.readings.length : Array.isArray(b.value) ? b.value.length : -1;
  if (count < 0) {
    return fail("readings must be an array (or value an array, in the columnar form)", batchId, [{ index: -1, reason: "no readings array" }]);
  }
  if (count > limits.maxReadings) {
    return fail(`too many readings in one batch: ${count} > ${limits.maxReadings}`, batchId, [{ index: -1, reason: `limit is ${limits.maxReadings}` }], 413);
  }
  const latest = now + limits.maxClockSkewMs;
  const earliest = Math.max(MIN_TS, now - limits.maxAgeMs);
  const readings: ParsedReading[] = new Array(count);
  const rejected: Rejection[] = [];
  const reject = (index: number, reason: string) => {
    if (rejected.length < MAX_LISTED) rejected.push({ index, reason });
  };
  let timestamped = true;
  const checkTs = (index: number, ts: unknown): number => {
    if (ts === undefined || ts === null) {
      timestamped = false;
      return now;
    }
    if (typeof ts !== "number" || !Number.isInteger(ts)) {
      reject(index, "ts must be an integer of epoch milliseconds");
      return now;
    }
    if (ts < MIN_TS) reject(index, "ts is before 2000-01-01: is the device clock set?");
    else if (ts < earliest) reject(index, `ts is older than the raw retention allows (${Math.round(limits.maxAgeMs / 86_400_000)} days)`);
    else if (ts > latest) reject(index, `ts is ${Math.round((ts - now) / 1000)} s in the future (limit ${limits.maxClockSkewMs / 1000} s)`);
    return ts;
  };
  const checkValue = (index: number, value: unknown): number => {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      reject(index, "value must be a finite number");
      return 0;
    }
    // Bounded so that no sum a rollup builds can overflow (shared/values.ts).
    if (Math.abs(value) > MAX_ABS_VALUE) {
      reject(index, `value must be within ±${MAX_ABS_VALUE_TEXT}`);
      return 0;
    }
    return value;
  };
  const checkMetric = (index: number, metric: unknown): Metric | undefined => {
    if (metric === undefined || metric === null) return undefined;
    if (typeof metric !== "string" || !isMetric(metric)) {
      reject(index, `metric ${JSON.stringify(metric)} is not known`);
      return undefined;
    }
    return metric;
  };

  if (Array.isArray(b.readings)) {
    const rows = b.readings as unknown[];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (typeof r !== "object" || r === null) {
        reject(i, "a reading must be an object { sensor, value, ts? }");
        continue;
      }
      const o = r as Record<string, unknown>;
      const sensor = o.sensor;
      if (typeof sensor !== "string" || !SENSOR_KEY.test(sensor)) reject(i, "sensor must be 1-64 characters of letters, digits and . _ : -");
      readings[i] = { sensor: sensor as string, ts: checkTs(i, o.ts), value: checkValue(i, o.value), metric: checkMetric(i, o.metric) };
    }
  } else {
    const sensor = b.sensor;
    if (typeof sensor !== "string" || !SENSOR_KEY.test(sensor)) {
      return fail("columnar form needs sensor: 1-64 characters of letters, digits and . _ : -", batchId, [{ index: -1, reason: "sensor missing" }]);
    }
    const values = b.value as unknown[];
    const ts = b.ts;
    if (ts !== undefined && (!Array.isArray(ts) || ts.length !== values.length)) {
      return fail("columnar form: ts must be an array as long as value", batchId, [{ index: -1, reason: "ts and value differ in length" }]);
    }
    const metric = checkMetric(-1, b.metric);
    for (let i = 0; i < values.length; i++) {
      readings[i] = { sensor, ts: checkTs(i, ts === undefined ? undefined : (ts as unknown[])[i]), value: checkValue(i, values[i]), metric };
    }
  }
  if (rejected.length > 0) {
    return fail(`batch refused: ${rejected.length >= MAX_LISTED ? `at least ${MAX_LISTED}` : rejected.length} invalid readings; nothing was stored`, batchId, rejected);
  }
  return { ok: true, batch: { batchId, attempt, readings, timestamped } };
}
