/**
 * The magnitude of a reading. Sensors measure percentages, degrees, lux, millisiemens: nothing
 * comes near 10^15. Bounding values there keeps every sum a rollup or an average builds far from
 * overflow (a billion readings of the largest value add up to 10^24, where float64 still has room
 * to spare), and keeps whole numbers exact (float64 counts integers exactly up to 2^53 ≈ 9·10^15).
 * Ingest refuses a reading beyond it, raw or calibrated, naming its index; calibrations whose
 * points lie beyond it are refused too.
 */
export const MAX_ABS_VALUE = 1e15;
/** MAX_ABS_VALUE as messages write it. */
export const MAX_ABS_VALUE_TEXT = "1e15";

/** How steep a calibration may be: value units per raw unit. A steeper line turns noise into nonsense. */
export const MAX_CALIBRATION_SLOPE = 1e6;

/** Two points closer than this (relative to their size) carry no information a float64 can keep. */
const MIN_RELATIVE_SPAN = 1e-6;

export const isBoundedValue = (value: number) => Number.isFinite(value) && Math.abs(value) <= MAX_ABS_VALUE;

export interface CalibrationPoints {
  rawLow: number;
  valueLow: number;
  rawHigh: number;
  valueHigh: number;
}

/**
 * What is wrong with a two-point calibration, by field: points that are not finite or beyond
 * MAX_ABS_VALUE; raw points equal or too close to tell apart; values equal (every reading would
 * mean the same); a line steeper than MAX_CALIBRATION_SLOPE. A calibration without issues maps any
 * bounded raw reading to a finite value.
 */
export function calibrationIssues(c: CalibrationPoints): { path: keyof CalibrationPoints; message: string }[] {
  const issues: { path: keyof CalibrationPoints; message: string }[] = [];
  for (const field of ["rawLow", "valueLow", "rawHigh", "valueHigh"] as const) {
    if (!isBoundedValue(c[field])) issues.push({ path: field, message: `must be a finite number within ±${MAX_ABS_VALUE_TEXT}` });
  }
  if (issues.length > 0) return issues;
  const rawSpan = Math.abs(c.rawHigh - c.rawLow);
  const valueSpan = Math.abs(c.valueHigh - c.valueLow);
  if (rawSpan === 0) issues.push({ path: "rawHigh", message: "must differ from rawLow" });
  else if (rawSpan < MIN_RELATIVE_SPAN * Math.max(1, Math.abs(c.rawLow), Math.abs(c.rawHigh))) {
    issues.push({ path: "rawHigh", message: "is too close to rawLow: take the two raw readings further apart" });
  }
  if (valueSpan === 0) issues.push({ path: "valueHigh", message: "must differ from valueLow: every reading would get the same value" });
  else if (valueSpan < MIN_RELATIVE_SPAN * Math.max(1, Math.abs(c.valueLow), Math.abs(c.valueHigh))) {
    issues.push({ path: "valueHigh", message: "is too close to valueLow: every reading would get nearly the same value" });
  }
  if (issues.length === 0 && valueSpan / rawSpan > MAX_CALIBRATION_SLOPE) {
    issues.push({ path: "valueHigh", message: `makes the calibration too steep: more than ${MAX_CALIBRATION_SLOPE} value units per raw unit` });
  }
  return issues;
}
