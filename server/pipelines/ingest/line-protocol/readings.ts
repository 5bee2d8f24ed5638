import { isMetric, METRICS, type Metric } from "../../../../shared/metrics";
import type { ParsedReading } from "../parse";
import type { LineError, Point, Precision } from "./parser";

/**
 * Line protocol points → Verdant readings of the sending device.
 *
 * Sensor key (what a device's sensor is called; a new key becomes a new sensor):
 *   - with a `sensor` tag:     <sensor>.<measurement>.<field>   (Tasmota: `ds18b20.temperature`)
 *   - with an `entity_id` tag: <entity_id>.<field>              (Home Assistant, whose measurement is a unit)
 *   - otherwise:               <measurement>.<field>            (`soil,bed=1 moisture=41` → `soil.moisture`)
 *   The field name `value` is left out (`temperature value=21` → `temperature`). Characters outside
 *   the key alphabet `A-Z a-z 0-9 . _ : -` become `_` (`°C` → `_C`); a key longer than 64 keeps its
 *   first 55 characters, a dash and 8 hex digits of a hash of the whole key, so it stays stable and
 *   distinct. Other tags are ignored: one device token is one Verdant device.
 *
 * Metric (used when the key becomes a sensor; an existing sensor keeps its own): the `metric` tag
 * when present (one of Verdant's metrics, else the line is refused); else the first of the field
 * name, Home Assistant's `device_class`, the measurement name that is a known name or unit (see
 * METRIC_NAMES); else the sensor directory infers it from the key as for /v1/ingest.
 *
 * Only numbers are readings: string and boolean fields are counted and listed (by the key they
 * would have had) as not stored. A line without a timestamp gets the server's receive time.
 */

/** Names (and units, as Home Assistant's default measurement is the unit) that say what a value measures. */
const METRIC_NAMES: Record<string, Metric> = {};
const name = (metric: Metric, ...names: string[]) => {
  for (const n of names) METRIC_NAMES[n] = metric;
};
name("soil_moisture", "soil_moisture", "moisture", "soilmoisture", "soil", "vwc", "moi", "soil_humidity", "soil_water_content");
name("temperature", "temperature", "temp", "tempc", "temp_c", "air_temperature", "soil_temperature", "ambient_temperature", "°c", "degc", "celsius", "°f");
name("humidity", "humidity", "hum", "rh", "relative_humidity", "air_humidity", "%rh");
name("light", "light", "lux", "lx", "illuminance", "illuminance_lux", "light_level");
name("water_level", "water_level", "waterlevel", "level", "tank_level", "reservoir_level");
name("battery", "battery", "batt", "bat", "battery_level", "battery_percent", "battery_percentage");
name("ec", "ec", "conductivity", "soil_conductivity", "fer", "fertility", "µs/cm", "us/cm", "ms/cm");
name("ph", "ph");

/** The metric a name stands for: `Soil-Moisture` → soil_moisture, `lx` → light, `rssi` → undefined. */
export function metricOfName(text: string): Metric | undefined {
  const normal = text.toLowerCase().replaceAll("-", "_").replaceAll(" ", "_");
  return Object.hasOwn(METRIC_NAMES, normal) ? METRIC_NAMES[normal] : undefined;
}

const MAX_KEY = 64;

/** Folds a joined key into the sensor-key alphabet and length. */
export function sensorKeyOf(parts: readonly string[]): string {
  const joined = parts.join(".");
  let folded = "";
  let clean = true;
  for (let i = 0; i < joined.length; i++) {
    if (!isKeyChar(joined.charCodeAt(i))) {
      clean = false;
      break;
    }
  }
  if (clean) folded = joined;
  else {
    // By code point, so an emoji is one `_`, not two.
    for (const ch of joined) folded += ch.length === 1 && isKeyChar(ch.charCodeAt(0)) ? ch : "_";
  }
  if (folded.length <= MAX_KEY) return folded;
  const hash = Bun.hash.xxHash32(joined).toString(16).padStart(8, "0");
  return `${folded.slice(0, MAX_KEY - 9)}-${hash}`;
}

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 58 || c === 45;
}

export interface ReadingLimits {
  maxClockSkewMs: number;
  /** Oldest accepted reading, as an age (the raw retention, as for /v1/ingest). */
  maxAgeMs: number;
}

export interface NotStored {
  /** String and boolean field values in the body. */
  count: number;
  /** The distinct keys they would have had, at most 20. */
  keys: string[];
}

export type ReadingsResult =
  | { ok: true; readings: ParsedReading[]; /** Every line carried a timestamp. */ allTimestamped: boolean; notStored: NotStored }
  | { ok: false; errors: LineError[] };

/** Readings before 2000 are a clock that is not set or a wrong precision, not history. */
const MIN_TS = Date.UTC(2000, 0, 1);
const MAX_LISTED_KEYS = 20;

interface KeyInfo {
  key: string;
  fieldMetric: Metric | undefined;
  measurementMetric: Metric | undefined;
}

/**
 * The readings of parsed points, or the lines that cannot be stored (a timestamp out of range, an
 * unknown `metric` tag), each named like a parse error. `numericFields` sizes the result.
 */
export function readingsOf(points: Point[], numericFields: number, now: number, precision: Precision, limits: ReadingLimits, maxErrors = 10): ReadingsResult {
  const readings: ParsedReading[] = new Array(numericFields);
  const errors: LineError[] = [];
  const latest = now + limits.maxClockSkewMs;
  const earliest = Math.max(MIN_TS, now - limits.maxAgeMs);
  // (subject kind + subject) → measurement → field → key; the same series repeat line after line.
  const keys = new Map<string, Map<string, Map<string, KeyInfo>>>();
  const notStoredKeys = new Set<string>();
  let notStored = 0;
  let allTimestamped = true;
  let r = 0;
  for (const point of points) {
    let ts = point.time;
    if (ts === undefined) {
      allTimestamped = false;
      ts = now;
    } else {
      const problem = ts < MIN_TS
        ? `timestamp is before 2000-01-01: is the device clock set, and the precision right (this request's is ${precision})?`
        : ts < earliest
          ? `timestamp is older than the raw retention allows (${Math.round(limits.maxAgeMs / 86_400_000)} days)`
          : ts > latest
            ? `timestamp is ${Math.round((ts - now) / 1000)} s in the future (limit ${limits.maxClockSkewMs / 1000} s): is the precision right (this request's is ${precision})?`
            : undefined;
      if (problem) {
        errors.push(errorOf(point, problem));
        if (errors.length >= maxErrors) break;
        continue;
      }
    }

    // The tags Verdant reads; a line has few tags, a loop beats building a map.
    let sensorTag: string | undefined;
    let entityId: string | undefined;
    let metricTag: string | undefined;
    let deviceClass: string | undefined;
    const tags = point.tags;
    for (let t = 0; t < tags.length; t += 2) {
      const k = tags[t];
      if (k === "sensor") sensorTag = tags[t + 1];
      else if (k === "entity_id") entityId = tags[t + 1];
      else if (k === "metric") metricTag = tags[t + 1];
      else if (k === "device_class") deviceClass = tags[t + 1];
    }
    let explicit: Metric | undefined;
    if (metricTag !== undefined) {
      if (!isMetric(metricTag)) {
        errors.push(errorOf(point, `metric tag '${metricTag}' is not one of ${METRICS.join(", ")}`));
        if (errors.length >= maxErrors) break;
        continue;
      }
      explicit = metricTag;
    }
    const { fieldKeys, fieldValues, fieldTypes } = point;
    if (deviceClass === undefined) {
      const at = fieldKeys.indexOf("device_class_str"); // Home Assistant's attribute, as a string field
      if (at >= 0 && fieldTypes[at] === "string") deviceClass = fieldValues[at] as string;
    }
    const classMetric = deviceClass === undefined ? undefined : metricOfName(deviceClass);

    const subject = sensorTag !== undefined ? `s${sensorTag}` : entityId !== undefined ? `e${entityId}` : "";
    let byMeasurement = keys.get(subject);
    if (!byMeasurement) keys.set(subject, (byMeasurement = new Map()));
    let byField = byMeasurement.get(point.measurement);
    if (!byField) byMeasurement.set(point.measurement, (byField = new Map()));

    for (let f = 0; f < fieldKeys.length; f++) {
      const field = fieldKeys[f]!;
      let info = byField.get(field);
      if (!info) {
        const named = field === "value" ? [] : [field];
        const parts = sensorTag !== undefined ? [sensorTag, point.measurement, ...named] : entityId !== undefined ? [entityId, ...named] : [point.measurement, ...named];
        info = {
          key: sensorKeyOf(parts),
          fieldMetric: field === "value" ? undefined : metricOfName(field),
          measurementMetric: metricOfName(point.measurement),
        };
        byField.set(field, info);
      }
      const type = fieldTypes[f];
      if (type === "string" || type === "boolean") {
        notStored++;
        if (notStoredKeys.size < MAX_LISTED_KEYS) notStoredKeys.add(info.key);
        continue;
      }
      readings[r++] = {
        sensor: info.key,
        ts,
        value: fieldValues[f] as number,
        metric: explicit ?? info.fieldMetric ?? classMetric ?? info.measurementMetric,
      };
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  readings.length = r;
  return { ok: true, readings, allTimestamped, notStored: { count: notStored, keys: [...notStoredKeys] } };
}

/** A line that parsed but cannot be stored (its text is not kept past parsing: column 0, no text). */
function errorOf(point: Point, reason: string): LineError {
  return { line: point.line, column: 0, reason, text: "" };
}
