/**
 * The rule state machine, pure: no clock, no stores. Every kind of rule reduces to samples
 * (time, value) compared with a threshold — a reading, an aggregate over a window, the age of the
 * last report, the projected days of battery left — so one machine decides them all:
 *
 *   clear ──breach──▶ pending ──breach held ≥ minDuration──▶ firing ──past threshold ± band──▶ clear
 *            (minDuration 0: straight to firing)   pending ──no breach──▶ clear
 *
 * Hysteresis: a rule firing on "below 30, band 5" clears only above 35, so a noisy signal around
 * 30 fires once instead of flapping. Minimum duration: the breach must hold (every sample in a
 * row breaching) for that long, measured by sample time, before the rule fires.
 */

export type Comparison = "below" | "above";
export type RuleStatus = "clear" | "pending" | "firing";

export interface ConditionSpec {
  comparison: Comparison;
  threshold: number;
  /** ≥ 0: how far past the threshold (on the safe side) a value must be to clear. */
  hysteresis: number;
  minDurationMs: number;
}

export interface MachineState {
  status: RuleStatus;
  /** Epoch ms of the first sample of the current breach while pending. */
  pendingSince: number | null;
}

export interface Sample {
  at: number;
  value: number;
}

export type Transition = "fired" | "cleared" | null;

export const CLEAR: MachineState = { status: "clear", pendingSince: null };

export function breaches(spec: ConditionSpec, value: number): boolean {
  return spec.comparison === "below" ? value < spec.threshold : value > spec.threshold;
}

/** Past the threshold by more than the band, on the safe side. */
export function recovered(spec: ConditionSpec, value: number): boolean {
  return spec.comparison === "below" ? value > spec.threshold + spec.hysteresis : value < spec.threshold - spec.hysteresis;
}

export function step(spec: ConditionSpec, state: MachineState, sample: Sample): { state: MachineState; transition: Transition } {
  const firing = { status: "firing" as const, pendingSince: null };
  switch (state.status) {
    case "clear":
      if (!breaches(spec, sample.value)) return { state, transition: null };
      if (spec.minDurationMs <= 0) return { state: firing, transition: "fired" };
      return { state: { status: "pending", pendingSince: sample.at }, transition: null };
    case "pending": {
      if (!breaches(spec, sample.value)) return { state: CLEAR, transition: null };
      const since = state.pendingSince ?? sample.at;
      if (sample.at - since >= spec.minDurationMs) return { state: firing, transition: "fired" };
      return { state: { status: "pending", pendingSince: since }, transition: null };
    }
    case "firing":
      if (recovered(spec, sample.value)) return { state: CLEAR, transition: "cleared" };
      return { state, transition: null };
  }
}

/**
 * Days until a battery reaches empty (0 %), by a least-squares line through (time, percent);
 * null when it is not draining (flat or charging) or there are too few points over too short a span.
 */
export function projectedBatteryDays(points: Sample[], minSpanMs = 6 * 3_600_000): number | null {
  if (points.length < 3) return null;
  const first = points[0]!.at;
  const last = points[points.length - 1]!;
  if (last.at - first < minSpanMs) return null;
  const xs = points.map((p) => (p.at - first) / 86_400_000);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = points.reduce((a, p) => a + p.value, 0) / points.length;
  let num = 0;
  let den = 0;
  points.forEach((p, i) => {
    num += (xs[i]! - meanX) * (p.value - meanY);
    den += (xs[i]! - meanX) ** 2;
  });
  if (den === 0) return null;
  const slopePerDay = num / den;
  if (slopePerDay >= 0) return null;
  // From the fitted value at the last point, not the noisy last reading.
  const fittedNow = meanY + slopePerDay * (xs[xs.length - 1]! - meanX);
  return Math.max(0, fittedNow / -slopePerDay);
}

/** Placeholders a template may use; anything else in braces is left as written. */
export type TemplateValues = Partial<Record<"value" | "threshold" | "metric" | "unit" | "plant" | "sensor" | "device" | "rule", string | number | null>>;

/**
 * Renders "{plant} is dry: {value} {unit}" as plain text. Values are formatted, never evaluated,
 * and cut to a sane length; a missing value renders as "?".
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) return whole;
    const value = values[name as keyof TemplateValues];
    if (value === null || value === undefined) return "?";
    const text = typeof value === "number" ? String(Math.round(value * 100) / 100) : value;
    return text.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, 200);
  });
}
