import { METRIC_UNITS, type Metric } from "../../../shared/metrics";

/** How a grower reads the metrics. */
export const METRIC_LABELS: Record<Metric, string> = {
  soil_moisture: "Soil moisture",
  temperature: "Temperature",
  humidity: "Humidity",
  light: "Light",
  water_level: "Water level",
  battery: "Battery",
  ec: "EC",
  ph: "pH",
  unknown: "Other",
};

/** The order metrics are shown in: what plants need most first. */
export const METRIC_ORDER: Metric[] = ["soil_moisture", "temperature", "humidity", "light", "water_level", "ec", "ph", "battery", "unknown"];

export const metricLabel = (metric: string) => METRIC_LABELS[metric as Metric] ?? metric;
export const metricUnit = (metric: string) => METRIC_UNITS[metric as Metric] ?? "";
export const metricRank = (metric: string) => {
  const i = METRIC_ORDER.indexOf(metric as Metric);
  return i < 0 ? METRIC_ORDER.length : i;
};

/** A number as people read it: lux as a whole number, small values with a decimal or two. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 1 : 2;
  return value.toLocaleString(undefined, { maximumFractionDigits: digits });
}

export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

/** "3 min. ago", "in 2 days": how long ago (or until) an instant is. */
export function relativeTime(at: Date | number | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return "never";
  const ms = (typeof at === "number" ? at : at.getTime()) - now;
  const abs = Math.abs(ms);
  if (abs < 45_000) return ms <= 0 ? "just now" : "in a moment";
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["minute", 60_000],
    ["hour", 3_600_000],
    ["day", 86_400_000],
    ["month", 30 * 86_400_000],
    ["year", 365 * 86_400_000],
  ];
  let chosen = units[0]!;
  for (const unit of units) if (abs >= unit[1] * 0.9) chosen = unit;
  return rtf.format(Math.round(ms / chosen[1]), chosen[0]);
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
/** A date and time in the site's time zone (the plants live there, not in the browser's zone). */
export function formatDateTime(at: Date | number | null | undefined, timeZone?: string, withYear = false): string {
  if (at === null || at === undefined) return "–";
  const key = `${timeZone ?? ""}|${withYear}`;
  let f = dateTimeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, {
      timeZone,
      ...(withYear ? { year: "numeric" } : {}),
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
    dateTimeFormats.set(key, f);
  }
  return f.format(typeof at === "number" ? at : at);
}

export function formatDate(at: Date | number | null | undefined, timeZone?: string): string {
  if (at === null || at === undefined) return "–";
  return new Intl.DateTimeFormat(undefined, { timeZone, weekday: "short", month: "short", day: "numeric" }).format(at);
}

/** A duration in seconds as "45 s", "12 min", "4 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${formatNumber(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

/** Parses a number field: empty is undefined, anything else a finite number or NaN (the server names the field). */
export function numberField(text: string): number | undefined {
  const trimmed = text.trim().replace(",", ".");
  if (trimmed === "") return undefined;
  return Number(trimmed);
}
