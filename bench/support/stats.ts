/** Small statistics and formatting helpers shared by the benchmarks. */

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentiles of latencies (ms), rounded to 0.01 ms; zeros for no samples. */
export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => (sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!));
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median of repeated measurements and their spread (min–max). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spreadOf(values: number[]): Spread {
  return { median: round(median(values), 3), min: round(Math.min(...values), 3), max: round(Math.max(...values), 3), runs: values.map((v) => round(v, 3)) };
}

/** "1.23 M" / "456 k" / "789" for rates. */
export function compact(n: number): string {
  if (n >= 1e6) return `${round(n / 1e6, 2)} M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)} k`;
  return String(Math.round(n));
}

/** A median with its spread when there is more than one run: "1.23 M [1.20 M – 1.31 M]". */
export function withSpread(s: Spread, format: (n: number) => string): string {
  return s.runs.length > 1 ? `${format(s.median)} [${format(s.min)}–${format(s.max)}]` : format(s.median);
}

export const ms = (n: number) => (n >= 100 ? `${Math.round(n)} ms` : `${round(n, 1)} ms`);
export const ratio = (n: number) => `${round(n, 2)}×`;

export function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}
