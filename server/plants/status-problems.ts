import type { Metric } from "../../shared/metrics";
import { DLI_UNIT, formatValue, METRIC_LABELS, problemMessage, type PlantProblem } from "../../shared/schemas/plant-status";
import type { Bound } from "../../shared/thresholds";
import type { RuleFacts, SensorFacts } from "../sites";
import { builtInHysteresis, DLI_TUNING } from "../rules";

/**
 * The pure half of the plant status: which band clears a problem, how a problem is worded, and the
 * state machine replayed on a short series (the daily light integral of the last days).
 */

export type Direction = "below" | "above";

/**
 * The band that clears a problem: the hysteresis of the plant's own rule on that bound (its
 * built-in rule, or a person's rule comparing with the plant's range), else the built-in default,
 * so the status and the alerts agree on when a value is back.
 */
export function bandOf(
  rules: readonly RuleFacts[],
  plantId: string,
  sensorIds: readonly string[],
  kind: "threshold" | "daily_light",
  metric: string,
  direction: Direction,
  fallback: number,
): number {
  const from = direction === "below" ? "plant_min" : "plant_max";
  const own = rules.filter(
    (r) =>
      r.kind === kind &&
      r.comparison === direction &&
      r.thresholdFrom === from &&
      (kind === "daily_light" || r.metric === metric) &&
      (r.plantId === plantId || (r.sensorId !== null && sensorIds.includes(r.sensorId))),
  );
  return (own.find((r) => r.builtIn) ?? own[0])?.hysteresis ?? fallback;
}

export const defaultBand = (metric: string, min: Bound, max: Bound) => builtInHysteresis(metric, { min: min.value, max: max.value });
export const DLI_BAND = DLI_TUNING.hysteresis;

export function labelOf(metric: string): string {
  return METRIC_LABELS[metric as Metric] ?? metric;
}

/**
 * A problem's sentence: "soil moisture 18 %, below 30 %" while the value is out of range; while it
 * is back in range but not yet past the band, "soil moisture 31 %, was below 30 % (clears above 33 %)".
 */
export function wording(label: string, value: number, unit: string, direction: Direction, bound: number, band: number): string {
  const out = direction === "below" ? value < bound : value > bound;
  if (out) return problemMessage(label, value, unit, direction, bound);
  const clearAt = direction === "below" ? bound + band : bound - band;
  return `${label} ${formatValue(value, unit)}, was ${direction} ${formatValue(bound, unit)} (clears ${direction === "below" ? "above" : "below"} ${formatValue(clearAt, unit)})`;
}

/** Whether a value is past the band on the safe side (the problem, if any, is over). */
export function cleared(value: number, direction: Direction, bound: number, band: number): boolean {
  return direction === "below" ? value > bound + band : value < bound - band;
}

/** The start of the current excursion in a series (oldest first), or null: the first breach after the last value past the band. */
export function excursionStart(series: readonly { at: number; value: number }[], direction: Direction, bound: number, band: number): number | null {
  let since: number | null = null;
  for (const point of series) {
    if (cleared(point.value, direction, bound, band)) since = null;
    else if (since === null && (direction === "below" ? point.value < bound : point.value > bound)) since = point.at;
  }
  return since;
}

/** A light problem from the daily light integral of the last whole days. */
export function lightProblem(
  sensor: SensorFacts,
  days: readonly { start: number; dli: number | null; judgeable: boolean }[],
  direction: Direction,
  bound: number,
  band: number,
  source: Bound["source"],
): PlantProblem | null {
  const series = days.flatMap((d) => (d.judgeable && d.dli !== null ? [{ at: d.start, value: d.dli }] : []));
  const since = excursionStart(series, direction, bound, band);
  if (since === null) return null;
  const value = series.at(-1)!.value;
  return {
    metric: "light",
    sensorId: sensor.id,
    value,
    bound,
    direction,
    source,
    since: new Date(since),
    message: wording("daily light integral", value, DLI_UNIT, direction, bound, band),
  };
}
