/** The metrics Verdant knows, with the unit readings of each are stored in. Extendable. */
export const METRIC_UNITS = {
  soil_moisture: "%",
  temperature: "°C",
  humidity: "%RH",
  light: "lx",
  water_level: "%",
  battery: "%",
  ec: "mS/cm",
  ph: "pH",
  unknown: "",
} as const;

export type Metric = keyof typeof METRIC_UNITS;
export const METRICS = Object.keys(METRIC_UNITS) as Metric[];

export function isMetric(value: string): value is Metric {
  return Object.hasOwn(METRIC_UNITS, value);
}

/** Key fragments devices commonly use, most specific first. */
const KEY_HINTS: [RegExp, Metric][] = [
  [/soil|moist|vwc/, "soil_moisture"],
  [/hum|rh/, "humidity"],
  [/temp|^t\d*$/, "temperature"],
  [/lux|light|ldr|par/, "light"],
  [/level|tank|reservoir/, "water_level"],
  [/bat|vbat/, "battery"],
  [/^ec|cond/, "ec"],
  [/^ph/, "ph"],
];

/** What a new sensor key most likely measures: "soil1" → soil_moisture, "xyz" → unknown. */
export function inferMetric(sensorKey: string): Metric {
  const key = sensorKey.toLowerCase();
  for (const [pattern, metric] of KEY_HINTS) if (pattern.test(key)) return metric;
  return "unknown";
}

/** Two-point calibration raw → value; identity when the sensor is uncalibrated. */
export interface Calibration {
  rawLow: number;
  valueLow: number;
  rawHigh: number;
  valueHigh: number;
}

export function applyCalibration(raw: number, calibration: Calibration | null | undefined): number {
  if (!calibration) return raw;
  const { rawLow, valueLow, rawHigh, valueHigh } = calibration;
  return valueLow + ((raw - rawLow) * (valueHigh - valueLow)) / (rawHigh - rawLow);
}
