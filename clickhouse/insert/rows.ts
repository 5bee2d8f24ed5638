import { applyCalibration, type Calibration } from "../../shared/metrics";

/**
 * The row layout of raw readings: RowBinary, 48 bytes a row, INSERT_COLUMNS in that order. What
 * the write-ahead log keeps and what chDB parses about twice as fast as text (no number or UUID
 * parsing, fixed-width fields); ./insert.ts turns it into TabSeparated for a ClickHouse server.
 */

/** The columns of a raw reading, in the order the encoders below write them. */
export const INSERT_COLUMNS = ["sensor_id", "ts", "value", "raw_value", "batch"] as const;
/** INSERT_COLUMNS as a RowBinary structure. */
export const ROW_BINARY_STRUCTURE = "sensor_id UUID, ts DateTime64(3), value Float64, raw_value Float64, batch UInt64";

/** A reading as a device sent it: its sensor key, epoch ms and raw value. */
export interface RawReading {
  sensor: string;
  ts: number;
  value: number;
}

/** What encoding needs to know of a sensor. */
export interface SensorForRows {
  id: string;
  metric: string;
  calibration: Calibration | null;
}

export interface EncodedBatch {
  /** The batch's rows as RowBinary. */
  payload: Uint8Array;
  /** Calibrated values, index i for reading i (what is stored as `value`). */
  values: Float64Array;
  sensorIds: string[];
  /** Each sensor's newest reading (the first of a tie), in the order of sensorIds: what the latest values become. */
  latestTs: Float64Array;
  latestValues: Float64Array;
  minTs: number;
  maxTs: number;
  /** The newest battery reading, if the batch has one. */
  battery: number | undefined;
}

/**
 * What the readings table stores as `batch`: a 64-bit hash of the device's batch id, the same
 * as ClickHouse's own xxHash64(batch_id) (a test holds the two equal), so a batch can be
 * looked up by its id in SQL too.
 */
export function batchHash(batchId: string): bigint {
  return Bun.hash.xxHash64(batchId);
}

/**
 * Encodes a batch for ClickHouse: calibration applied, raw value kept. Per sensor the constant
 * head of its rows (the sensor id) is built once, per batch the constant tail (batch hash).
 */
export function encodeBatch(
  sensors: ReadonlyMap<string, SensorForRows>,
  readings: readonly RawReading[],
  hash: bigint,
): EncodedBatch {
  const bySensor = new Map<string, SensorForRows>();
  /** The index of each sensor's newest reading. */
  const newest = new Map<SensorForRows, number>();
  const values = new Float64Array(readings.length);
  let battery: number | undefined;
  let batteryTs = -Infinity;
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    let sensor = bySensor.get(r.sensor);
    if (!sensor) bySensor.set(r.sensor, (sensor = sensors.get(r.sensor)!));
    const value = applyCalibration(r.value, sensor.calibration);
    values[i] = value;
    if (r.ts < minTs) minTs = r.ts;
    if (r.ts > maxTs) maxTs = r.ts;
    const at = newest.get(sensor);
    if (at === undefined || r.ts > readings[at]!.ts) newest.set(sensor, i);
    if (sensor.metric === "battery" && r.ts >= batteryTs) {
      battery = value;
      batteryTs = r.ts;
    }
  }
  const payload = rowBinaryOf(bySensor, readings, values, hash);
  const sensorList = [...newest.keys()];
  const latestAt = [...newest.values()];
  return {
    payload,
    values,
    sensorIds: sensorList.map((s) => s.id),
    latestTs: Float64Array.from(latestAt, (i) => readings[i]!.ts),
    latestValues: Float64Array.from(latestAt, (i) => values[i]!),
    minTs,
    maxTs,
    battery,
  };
}

/** Each sensor's newest reading in RowBinary rows (the first of a tie), as encodeBatch reports it. */
export function latestOfRows(payload: Uint8Array): { sensorIds: string[]; latestTs: number[]; latestValues: number[] } {
  const place = new Map<string, number>();
  const latest = { sensorIds: [] as string[], latestTs: [] as number[], latestValues: [] as number[] };
  for (const row of decodeRows(payload)) {
    const at = place.get(row.sensorId);
    if (at === undefined) {
      place.set(row.sensorId, latest.sensorIds.length);
      latest.sensorIds.push(row.sensorId);
      latest.latestTs.push(row.ts);
      latest.latestValues.push(row.value);
    } else if (row.ts > latest.latestTs[at]!) {
      latest.latestTs[at] = row.ts;
      latest.latestValues[at] = row.value;
    }
  }
  return latest;
}

/** A RowBinary row read back (from the write-ahead log). */
export interface DecodedRow {
  sensorId: string;
  ts: number;
  value: number;
  rawValue: number;
  batch: bigint;
}

/**
 * RowBinary rows read back: each 48-byte row is a UUID as two little-endian UInt64 halves, an
 * Int64 of epoch ms, two Float64 and the UInt64 batch hash.
 */
export function decodeRows(payload: Uint8Array): DecodedRow[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const rows: DecodedRow[] = [];
  let idAt = -1;
  let id = "";
  for (let at = 0; at + ROW_BYTES <= payload.byteLength; at += ROW_BYTES) {
    // Rows of one sensor follow each other: its id is formatted once per run.
    if (idAt < 0 || !sameBytes(payload, at, idAt, 16)) {
      id = uuidOfRow(payload, at);
      idAt = at;
    }
    rows.push({
      sensorId: id,
      ts: view.getUint32(at + 16, true) + view.getUint32(at + 20, true) * TWO_POW_32,
      value: view.getFloat64(at + 24, true),
      rawValue: view.getFloat64(at + 32, true),
      batch: view.getBigUint64(at + 40, true),
    });
  }
  return rows;
}

/** The rows as TabSeparated, for a ClickHouse server (ids and numbers only, which never need escaping). */
export function rowBinaryToTsv(payload: Uint8Array): string {
  let tsv = "";
  for (const r of decodeRows(payload)) tsv += `${r.sensorId}\t${r.ts}\t${r.value}\t${r.rawValue}\t${r.batch}\n`;
  return tsv;
}

function sameBytes(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** A row's UUID: each 64-bit half is stored little-endian, its bytes reversed. */
function uuidOfRow(payload: Uint8Array, at: number): string {
  let hex = "";
  for (let i = 7; i >= 0; i--) hex += HEX[payload[at + i]!];
  for (let i = 15; i >= 8; i--) hex += HEX[payload[at + i]!];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

const TWO_POW_32 = 2 ** 32;

/** Bytes per RowBinary row: UUID, DateTime64, two Float64, UInt64 (a multiple of 8). */
export const ROW_BYTES = 16 + 8 + 8 + 8 + 8;
const ROW_WORDS = ROW_BYTES / 4;
const ROW_DOUBLES = ROW_BYTES / 8;

// RowBinary is little-endian, and rows are written through typed arrays, which use the CPU's
// byte order: every platform Bun runs on is little-endian, and this says so if one is not.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error("RowBinary encoding needs a little-endian CPU");

/**
 * RowBinary: UUID as two little-endian UInt64 halves, DateTime64(3) as a little-endian Int64 of
 * epoch ms, Float64 and UInt64 little-endian. Rows are 48 bytes, so each field sits at an
 * aligned offset and is written as 32-bit words or a double, not byte by byte.
 */
function rowBinaryOf(sensors: Map<string, SensorForRows>, readings: readonly RawReading[], values: Float64Array, hash: bigint): Uint8Array {
  const ids = new Map<string, Uint32Array>();
  for (const [key, sensor] of sensors) ids.set(key, uuidWordsOf(sensor));
  const buffer = new ArrayBuffer(readings.length * ROW_BYTES);
  const words = new Uint32Array(buffer);
  const doubles = new Float64Array(buffer);
  const hashLow = Number(hash & 0xffffffffn);
  const hashHigh = Number(hash >> 32n);
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    const id = ids.get(r.sensor)!;
    const w = i * ROW_WORDS;
    const d = i * ROW_DOUBLES;
    words[w] = id[0]!;
    words[w + 1] = id[1]!;
    words[w + 2] = id[2]!;
    words[w + 3] = id[3]!;
    // Epoch ms is a positive safe integer: split it into 32-bit halves for the Int64.
    words[w + 4] = r.ts % TWO_POW_32;
    words[w + 5] = Math.floor(r.ts / TWO_POW_32);
    doubles[d + 3] = values[i]!;
    doubles[d + 4] = r.value;
    words[w + 10] = hashLow;
    words[w + 11] = hashHigh;
  }
  return new Uint8Array(buffer);
}

/** A sensor's id as the four 32-bit words of its RowBinary form, cached on the (directory-held) sensor. */
function uuidWordsOf(sensor: SensorForRows): Uint32Array {
  const cached = uuidCache.get(sensor);
  if (cached) return cached;
  const hex = sensor.id.replaceAll("-", "");
  const bytes = new Uint8Array(16);
  // Each 64-bit half is stored little-endian: its 8 bytes in reverse order.
  for (let i = 0; i < 8; i++) {
    bytes[7 - i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    bytes[15 - i] = parseInt(hex.slice(16 + i * 2, 16 + i * 2 + 2), 16);
  }
  const words = new Uint32Array(bytes.buffer);
  uuidCache.set(sensor, words);
  return words;
}
const uuidCache = new WeakMap<SensorForRows, Uint32Array>();
