import { inferMetric, type Metric } from "../../../shared/metrics";
import { normaliseMac } from "../../../shared/mqtt-topics";
import { DEFAULT_PREFIXES, type MqttPreset } from "../../../shared/schemas/mqtt";

/**
 * What the MQTT tools people already run publish, and what it means: pure functions from a topic
 * and a payload to readings, presence and switch states. Formats as their projects document them:
 *   Zigbee2MQTT   <base_topic>/<friendly name>            JSON, one key per exposed value
 *                 <base_topic>/<friendly name>/availability  "online"/"offline" or {"state":"online"}
 *   Tasmota       tele/<topic>/SENSOR  JSON, sensors as nested objects, "Time" local, "TempUnit"
 *                 tele/<topic>/STATE   JSON heartbeat with the relays' POWER states
 *                 tele/<topic>/LWT     "Online"/"Offline" (retained, the broker sends the will)
 *                 stat/<topic>/POWER<n> "ON"/"OFF", stat/<topic>/RESULT {"POWER<n>":"ON"}
 *   OpenMQTTGateway / Theengs   home/<gateway>/BTtoMQTT/<MAC without colons>  JSON (moi, tempc, lux, fer, batt…)
 *   ESPHome       <node>/sensor/<object id>/state  a plain number;  <node>/status  "online"/"offline"
 */

export interface Recognised {
  preset: MqttPreset;
  /** The tool's base topic ("" where the preset has none). */
  prefix: string;
  /** What a binding names: friendly name, Tasmota topic, MAC (upper case, no colons), ESPHome node. */
  base: string;
  kind: "readings" | "state" | "presence" | "power" | "ignore";
}

export interface DecodedReading {
  sensor: string;
  value: number;
  metric: Metric | undefined;
}

export interface Decoded {
  readings: DecodedReading[];
  /** The payload's own time (epoch ms), when it carries one with a zone. */
  ts: number | undefined;
  presence: "online" | "offline" | undefined;
  /** Relay or switch states the device reports: Tasmota POWER<n> (n from 1), Zigbee2MQTT state. */
  power: { output: string; on: boolean }[];
}

const EMPTY: Decoded = { readings: [], ts: undefined, presence: undefined, power: [] };

/** The prefixes to recognise for the presets whose base topic is configurable in their tool. */
export interface KnownPrefixes {
  zigbee2mqtt: ReadonlySet<string>;
  omg: ReadonlySet<string>;
}

export const defaultPrefixes = (): KnownPrefixes => ({
  zigbee2mqtt: new Set([DEFAULT_PREFIXES.zigbee2mqtt]),
  omg: new Set([DEFAULT_PREFIXES.omg]),
});

/** The subscriptions that bring every preset's topics under their default prefixes (and `extra`). */
export function presetFilters(prefixes: KnownPrefixes): string[] {
  return [
    ...[...prefixes.zigbee2mqtt].map((p) => `${p}/#`),
    "tele/+/+",
    "stat/+/+",
    ...[...prefixes.omg].map((p) => `${p}/+/BTtoMQTT/+`),
    "+/sensor/+/state",
    "+/status",
  ];
}

/** Which preset a topic belongs to, and the binding it would need. */
export function recognise(topic: string, prefixes: KnownPrefixes): Recognised | undefined {
  const levels = topic.split("/");
  const first = levels[0]!;
  if (prefixes.zigbee2mqtt.has(first) && levels.length >= 2) {
    const rest = levels.slice(1);
    // The bridge's own topics, and our own commands coming back to us, are not devices' data.
    if (rest[0] === "bridge") return undefined;
    const last = rest[rest.length - 1];
    if (rest.length >= 2 && (last === "set" || last === "get")) return undefined;
    if (rest.length >= 3 && (rest[rest.length - 2] === "set" || rest[rest.length - 2] === "get")) return undefined;
    if (rest.length >= 2 && last === "availability") return { preset: "zigbee2mqtt", prefix: first, base: rest.slice(0, -1).join("/"), kind: "presence" };
    return { preset: "zigbee2mqtt", prefix: first, base: rest.join("/"), kind: "readings" };
  }
  if (levels.length === 3 && (first === "tele" || first === "stat") && levels[1]) {
    const base = levels[1];
    const what = levels[2]!;
    if (first === "tele") {
      if (what === "SENSOR") return { preset: "tasmota", prefix: "", base, kind: "readings" };
      if (what === "STATE") return { preset: "tasmota", prefix: "", base, kind: "state" };
      if (what === "LWT") return { preset: "tasmota", prefix: "", base, kind: "presence" };
      return { preset: "tasmota", prefix: "", base, kind: "ignore" };
    }
    if (/^POWER\d*$/.test(what) || what === "RESULT") return { preset: "tasmota", prefix: "", base, kind: "power" };
    return { preset: "tasmota", prefix: "", base, kind: "ignore" };
  }
  if (levels.length === 4 && prefixes.omg.has(first) && levels[2] === "BTtoMQTT" && /^[0-9A-Fa-f]{12}$/.test(levels[3]!)) {
    return { preset: "omg", prefix: first, base: normaliseMac(levels[3]!), kind: "readings" };
  }
  if (levels.length === 4 && levels[1] === "sensor" && levels[3] === "state" && first && levels[2]) {
    return { preset: "esphome", prefix: "", base: first, kind: "readings" };
  }
  if (levels.length === 2 && levels[1] === "status" && first) return { preset: "esphome", prefix: "", base: first, kind: "presence" };
  return undefined;
}

/** Decodes a preset's message; nothing it cannot read becomes a reading. */
export function decodePreset(recognised: Recognised, topic: string, payload: string): Decoded {
  switch (recognised.preset) {
    case "zigbee2mqtt":
      return recognised.kind === "presence" ? { ...EMPTY, presence: presenceOf(payload) } : zigbee2mqtt(payload);
    case "tasmota":
      return tasmota(recognised.kind, topic, payload);
    case "omg":
      return omg(payload);
    case "esphome":
      if (recognised.kind === "presence") return { ...EMPTY, presence: presenceOf(payload) };
      return esphome(topic, payload);
    default:
      return EMPTY;
  }
}

/** "online"/"Online"/{"state":"online"}; anything else is no statement. */
export function presenceOf(payload: string): "online" | "offline" | undefined {
  let text = payload.trim();
  if (text.startsWith("{")) {
    const state = (parseJson(text) as { state?: unknown } | undefined)?.state;
    text = typeof state === "string" ? state : "";
  }
  const lower = text.toLowerCase();
  return lower === "online" ? "online" : lower === "offline" ? "offline" : undefined;
}

// --- Zigbee2MQTT -------------------------------------------------------------------------------

/** Exposed values and what they measure; other numbers keep the metric their name suggests. */
const ZIGBEE2MQTT_METRICS: Record<string, Metric> = {
  soil_moisture: "soil_moisture",
  moisture: "soil_moisture",
  temperature: "temperature",
  soil_temperature: "temperature",
  humidity: "humidity",
  illuminance: "light",
  illuminance_lux: "light",
  battery: "battery",
  ph: "ph",
};
/** Link quality and the radio's own numbers say nothing about the plant. */
const ZIGBEE2MQTT_IGNORED = new Set(["linkquality", "last_seen", "voltage", "device_temperature", "power_outage_count", "update_available"]);

function zigbee2mqtt(payload: string): Decoded {
  const body = parseJson(payload);
  if (!isObject(body)) return EMPTY;
  const readings: DecodedReading[] = [];
  // Before Zigbee2MQTT 2.0, `illuminance` was a raw value beside `illuminance_lux`.
  const rawIlluminance = typeof body.illuminance_lux === "number";
  for (const [key, value] of Object.entries(body)) {
    if (typeof value !== "number" || !Number.isFinite(value) || ZIGBEE2MQTT_IGNORED.has(key)) continue;
    if (!SENSOR_KEY.test(key)) continue;
    const metric = key === "illuminance" && rawIlluminance ? "unknown" : (ZIGBEE2MQTT_METRICS[key] ?? inferMetric(key));
    readings.push({ sensor: key, value, metric });
  }
  const power: Decoded["power"] = [];
  for (const [key, value] of Object.entries(body)) {
    if (/^state(_[A-Za-z0-9]+)?$/.test(key) && (value === "ON" || value === "OFF")) power.push({ output: key, on: value === "ON" });
  }
  return { readings, ts: timeOf(body.last_seen), presence: undefined, power };
}

// --- Tasmota -----------------------------------------------------------------------------------

const TASMOTA_METRICS: Record<string, Metric> = {
  Temperature: "temperature",
  Humidity: "humidity",
  Illuminance: "light",
  Moisture: "soil_moisture",
  Battery: "battery",
};
const TASMOTA_SKIPPED = new Set(["Time", "TempUnit", "PressureUnit", "SpeedUnit", "Epoch"]);

function tasmota(kind: Recognised["kind"], topic: string, payload: string): Decoded {
  if (kind === "presence") return { ...EMPTY, presence: presenceOf(payload) };
  if (kind === "power") {
    const what = topic.slice(topic.lastIndexOf("/") + 1);
    if (what !== "RESULT") {
      const state = payload.trim().toUpperCase();
      return state === "ON" || state === "OFF" ? { ...EMPTY, power: [{ output: tasmotaOutput(what), on: state === "ON" }] } : EMPTY;
    }
    const body = parseJson(payload);
    return isObject(body) ? { ...EMPTY, power: tasmotaPower(body) } : EMPTY;
  }
  const body = parseJson(payload);
  if (!isObject(body)) return EMPTY;
  if (kind === "state") return { ...EMPTY, ts: tasmotaTime(body.Time), power: tasmotaPower(body) };
  if (kind !== "readings") return EMPTY;
  const fahrenheit = body.TempUnit === "F";
  const readings: DecodedReading[] = [];
  const visit = (object: Record<string, unknown>, path: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (depth === 0 && TASMOTA_SKIPPED.has(key)) continue;
      const sensor = path ? `${path}.${key}` : key;
      if (isObject(value) && depth < 3) visit(value, sensor, depth + 1);
      else if (typeof value === "number" && Number.isFinite(value) && SENSOR_KEY.test(sensor)) {
        const temperature = key === "Temperature" || key === "DewPoint";
        readings.push({
          sensor,
          // Verdant stores °C: a device set to Fahrenheit (SetOption8 1) is converted here.
          value: temperature && fahrenheit ? Math.round((((value - 32) * 5) / 9) * 1000) / 1000 : value,
          metric: TASMOTA_METRICS[key] ?? (key === "DewPoint" ? "unknown" : inferMetric(sensor)),
        });
      }
    }
  };
  visit(body, "", 0);
  return { readings, ts: tasmotaTime(body.Time), presence: undefined, power: [] };
}

/** "POWER" (one relay) is the first output. */
const tasmotaOutput = (what: string) => `POWER${what.slice(5) || "1"}`;

function tasmotaPower(body: Record<string, unknown>): Decoded["power"] {
  const power: Decoded["power"] = [];
  for (const [key, value] of Object.entries(body)) {
    if (/^POWER\d*$/.test(key) && (value === "ON" || value === "OFF")) power.push({ output: tasmotaOutput(key), on: value === "ON" });
  }
  return power;
}

/**
 * Tasmota's "Time" is the device's local time, with its offset only when SetOption52 is on
 * ("2024-05-01T12:00:00+02:00"): only then is it a point in time.
 */
function tasmotaTime(value: unknown): number | undefined {
  return typeof value === "string" && /[+-]\d\d:\d\d$|Z$/.test(value) ? timeOf(value) : undefined;
}

// --- OpenMQTTGateway / Theengs -----------------------------------------------------------------

/** Decoded BLE advertisements (Theengs decoder keys). `fer` is µS/cm; Verdant's EC is mS/cm. */
const OMG_FIELDS: Record<string, { metric: Metric; scale?: number }> = {
  moi: { metric: "soil_moisture" },
  tempc: { metric: "temperature" },
  hum: { metric: "humidity" },
  lux: { metric: "light" },
  fer: { metric: "ec", scale: 0.001 },
  batt: { metric: "battery" },
};

function omg(payload: string): Decoded {
  const body = parseJson(payload);
  if (!isObject(body)) return EMPTY;
  const readings: DecodedReading[] = [];
  for (const [key, field] of Object.entries(OMG_FIELDS)) {
    const value = body[key];
    if (typeof value === "number" && Number.isFinite(value)) readings.push({ sensor: key, value: field.scale ? round6(value * field.scale) : value, metric: field.metric });
  }
  return { readings, ts: undefined, presence: undefined, power: [] };
}

// --- ESPHome -----------------------------------------------------------------------------------

function esphome(topic: string, payload: string): Decoded {
  const id = topic.split("/")[2]!;
  const value = plainNumber(payload);
  if (value === undefined || !SENSOR_KEY.test(id)) return EMPTY;
  return { readings: [{ sensor: id, value, metric: inferMetric(id) }], ts: undefined, presence: undefined, power: [] };
}

// --- shared ------------------------------------------------------------------------------------

/** What ingest accepts as a sensor key. */
export const SENSOR_KEY = /^[A-Za-z0-9._:-]{1,64}$/;

/** A payload that is just a number ("21.5", " 42 "); "nan", "", JSON objects are not. */
export function plainNumber(payload: string): number | undefined {
  const text = payload.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Epoch seconds or milliseconds, or ISO 8601 with a zone; anything else is not a time. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    if (value > 1e12) return Math.round(value);
    if (value > 1e9) return Math.round(value * 1000);
    return undefined;
  }
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/.test(value)) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

export function parseJson(text: string): unknown {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
