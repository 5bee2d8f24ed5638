import { formatValue } from "../lib/format";

/** Metrics measured in percent are drawn on 0–100; others around their range and value. */
const PERCENT = new Set(["soil_moisture", "humidity", "water_level", "battery"]);

/**
 * A value against its range in force: the band is the range, the mark the value, red outside.
 * Stale values are drawn faded; a missing bound leaves that side of the band open.
 */
export function RangeBar(props: { metric: string; value: number | null; min: number | null; max: number | null; stale: boolean; unit: string }) {
  const { value, min, max } = props;
  let lo: number;
  let hi: number;
  if (PERCENT.has(props.metric)) {
    lo = 0;
    hi = 100;
  } else {
    const known = [value, min, max].filter((x): x is number => x !== null);
    if (known.length === 0) return <div className="rangebar empty" />;
    const a = Math.min(...known);
    const b = Math.max(...known);
    const pad = Math.max((b - a) * 0.35, Math.abs(b) * 0.1, 1);
    lo = a - pad;
    hi = b + pad;
  }
  const at = (x: number) => `${Math.min(100, Math.max(0, ((x - lo) / (hi - lo)) * 100))}%`;
  const outside = value !== null && ((min !== null && value < min) || (max !== null && value > max));
  const label = `${formatValue(value, props.unit)}${min !== null || max !== null ? `, range ${min ?? "…"}–${max ?? "…"} ${props.unit}` : ""}`;
  return (
    <div className={`rangebar ${props.stale ? "stale" : ""}`} role="img" aria-label={label}>
      {min !== null || max !== null ? (
        <span className="band" style={{ left: at(min ?? lo), right: `calc(100% - ${at(max ?? hi)})` }} />
      ) : null}
      {value !== null ? <span className={`mark ${outside ? "out" : ""}`} style={{ left: at(value) }} /> : null}
    </div>
  );
}
