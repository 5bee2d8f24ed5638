import { applyCalibration } from "../../shared/metrics";
import { isBoundedValue, MAX_ABS_VALUE_TEXT } from "../../shared/values";
import type { ParsedReading } from "./parse";
import type { SensorInfo } from "./sensor-directory";

/**
 * How rows travel to ClickHouse. RowBinary (what chDB gets) is parsed by the engine about twice as
 * fast as text: no number or UUID parsing, fixed-width fields. TabSeparated is for a ClickHouse
 * server over HTTP, whose client library streams text formats only. Both carry INSERT_COLUMNS
 * (group-commit.ts) in that order.
 */
export type InsertFormat = "rowbinary" | "tsv";

export interface EncodedBatch {
  /** The batch's rows in the insert format: bytes for RowBinary, a string for TabSeparated. */
  payload: Uint8Array | string;
  sensorIds: string[];
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
 * Readings whose calibrated value is not finite or beyond ±MAX_ABS_VALUE (a calibration stored
 * before calibrations were checked, or an extreme raw value on a steep one): the whole batch is
 * refused, each reading named by its index, before anything is stored.
 */
export class CalibratedValueError extends Error {
  override name = "CalibratedValueError";
  constructor(readonly rejected: { index: number; reason: string }[]) {
    super(`batch refused: ${rejected.length} readings have a calibrated value that is not finite or beyond ±${MAX_ABS_VALUE_TEXT}; nothing was stored`);
  }
}

/**
 * Encodes a batch for ClickHouse: calibration applied, raw value kept. Per sensor the constant
 * head of its rows (the sensor id) is built once, per batch the constant tail (batch hash).
 */
export function encodeBatch(
  sensors: Map<string, SensorInfo>,
  readings: ParsedReading[],
  hash: bigint,
  format: InsertFormat = "rowbinary",
): EncodedBatch {
  const bySensor = new Map<string, SensorInfo>();
  const values = new Float64Array(readings.length);
  let battery: number | undefined;
  let batteryTs = -Infinity;
  let minTs = Infinity;
  let maxTs = -Infinity;
  let rejected: { index: number; reason: string }[] | undefined;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    let sensor = bySensor.get(r.sensor);
    if (!sensor) bySensor.set(r.sensor, (sensor = sensors.get(r.sensor)!));
    const value = applyCalibration(r.value, sensor.calibration);
    if (!isBoundedValue(value)) (rejected ??= []).push({ index: i, reason: `calibrated value ${value} is not finite or beyond ±${MAX_ABS_VALUE_TEXT}: check the sensor's calibration` });
    values[i] = value;
    if (r.ts < minTs) minTs = r.ts;
    if (r.ts > maxTs) maxTs = r.ts;
    if (sensor.metric === "battery" && r.ts >= batteryTs) {
      battery = value;
      batteryTs = r.ts;
    }
  }
  if (rejected) throw new CalibratedValueError(rejected.slice(0, 100));
  const payload = format === "rowbinary" ? rowBinaryOf(bySensor, readings, values, hash) : tsvOf(bySensor, readings, values, hash);
  return { payload, sensorIds: [...bySensor.values()].map((s) => s.id), minTs, maxTs, battery };
}

/** TabSeparated: ids and numbers only, which never need escaping. */
function tsvOf(sensors: Map<string, SensorInfo>, readings: ParsedReading[], values: Float64Array, hash: bigint): string {
  const heads = new Map<string, string>();
  for (const [key, sensor] of sensors) heads.set(key, `${sensor.id}\t`);
  const tail = `\t${hash}\n`;
  let tsv = "";
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    tsv += heads.get(r.sensor)! + r.ts + "\t" + values[i] + "\t" + r.value + tail;
  }
  return tsv;
}

const TWO_POW_32 = 2 ** 32;

/** Bytes per RowBinary row: UUID, DateTime64, two Float64, UInt64 (a multiple of 8). */
const ROW_BYTES = 16 + 8 + 8 + 8 + 8;
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
function rowBinaryOf(sensors: Map<string, SensorInfo>, readings: ParsedReading[], values: Float64Array, hash: bigint): Uint8Array {
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

/** A sensor's id as the four 32-bit words of its RowBinary form, cached on the (directory-cached) sensor. */
function uuidWordsOf(sensor: SensorInfo): Uint32Array {
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
const uuidCache = new WeakMap<SensorInfo, Uint32Array>();
