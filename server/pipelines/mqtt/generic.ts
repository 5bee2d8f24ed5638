import { inferMetric, type Metric } from "../../../shared/metrics";
import type { MqttMapping } from "../../../shared/schemas/mqtt";
import { isObject, parseJson, plainNumber, SENSOR_KEY, timeOf, type Decoded, type DecodedReading } from "./presets";

/**
 * The generic binding: any topic pattern (MQTT wildcards: `+` one level, `#` the rest) feeds a
 * device. A plain-number payload is one reading (its sensor key given, or the topic's last level);
 * a JSON payload gives the fields the mapping names, or, without fields, every number in it (nested
 * keys joined with dots). Metrics as given, else inferred from the key. Which pattern a topic
 * matches is decided with shared/mqtt-topics.ts, as the site directory orders the patterns.
 */

export function decodeGeneric(mapping: MqttMapping | null | undefined, topic: string, payload: string): Decoded {
  const number = plainNumber(payload);
  if (number !== undefined) {
    const sensor = mapping?.valueSensor ?? topic.slice(topic.lastIndexOf("/") + 1);
    if (!SENSOR_KEY.test(sensor)) return { readings: [], ts: undefined, presence: undefined, power: [] };
    return { readings: [{ sensor, value: number, metric: (mapping?.valueMetric as Metric | undefined) ?? inferMetric(sensor) }], ts: undefined, presence: undefined, power: [] };
  }
  const body = parseJson(payload);
  if (!isObject(body)) return { readings: [], ts: undefined, presence: undefined, power: [] };
  const readings: DecodedReading[] = [];
  if (mapping?.fields?.length) {
    for (const field of mapping.fields) {
      const value = valueAt(body, field.path);
      const number = typeof value === "number" ? value : typeof value === "string" ? plainNumber(value) : undefined;
      if (number === undefined || !Number.isFinite(number)) continue;
      const scaled = field.scale !== undefined ? Math.round(number * field.scale * 1e9) / 1e9 : number;
      readings.push({ sensor: field.sensor, value: scaled, metric: (field.metric as Metric | undefined) ?? inferMetric(field.sensor) });
    }
  } else {
    const timeKey = mapping?.timePath;
    const visit = (object: Record<string, unknown>, path: string, depth: number) => {
      for (const [key, value] of Object.entries(object)) {
        const sensor = path ? `${path}.${key}` : key;
        if (sensor === timeKey) continue;
        if (isObject(value) && depth < 3) visit(value, sensor, depth + 1);
        else if (typeof value === "number" && Number.isFinite(value) && SENSOR_KEY.test(sensor)) readings.push({ sensor, value, metric: inferMetric(sensor) });
      }
    };
    visit(body, "", 0);
  }
  return { readings, ts: mapping?.timePath ? timeOf(valueAt(body, mapping.timePath)) : undefined, presence: undefined, power: [] };
}

function valueAt(body: Record<string, unknown>, path: string): unknown {
  let current: unknown = body;
  for (const key of path.split(".")) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}
