import type { SeriesBuckets } from "../../server/analytics/series";
import type { TestServer } from "./server";

/** Helpers for the analytics suites: readings go in through the real ingest endpoint. */

export interface Reading {
  sensor: string;
  ts: number;
  value: number;
  metric?: string;
}

let batchCounter = 0;

/** Posts readings in batches of up to 10,000 (the ingest limit); throws on anything but 200. */
export async function postReadings(server: TestServer, token: string, readings: Reading[]): Promise<void> {
  for (let i = 0; i < readings.length; i += 10_000) {
    const response = await fetch(`${server.url}/v1/ingest`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ batchId: `analytics-${++batchCounter}-${Date.now()}`, attempt: 1, readings: readings.slice(i, i + 10_000) }),
    });
    if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
  }
  // Readings are queryable a moment after their acknowledgement: the tests query right away.
  await server.settled();
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
/** The local calendar date (YYYY-MM-DD) of an instant in a zone, by Intl: independent of the server's code. */
export function localDate(ts: number, timeZone: string): string {
  let f = dateFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    dateFormats.set(timeZone, f);
  }
  return f.format(new Date(ts));
}

/** The first instant of each local date between two instants, by scanning minutes. */
export function localMidnights(from: number, to: number, timeZone: string): Map<string, number> {
  const out = new Map<string, number>();
  let previous = "";
  // Every zone's offset is a multiple of 15 minutes, so local midnights fall on quarter hours.
  for (let t = Math.floor(from / 900_000) * 900_000; t <= to; t += 900_000) {
    const d = localDate(t, timeZone);
    if (d !== previous) {
      if (previous) out.set(d, t);
      previous = d;
    }
  }
  return out;
}

/** Days in the last `withinDays` days whose local length in the zone is not 24 hours (DST changes). */
export function dstDays(timeZone: string, now: number, withinDays: number): { date: string; start: number; end: number }[] {
  const midnights = [...localMidnights(now - withinDays * 86_400_000, now, timeZone)];
  const out: { date: string; start: number; end: number }[] = [];
  for (let i = 0; i + 1 < midnights.length; i++) {
    const [date, start] = midnights[i]!;
    const end = midnights[i + 1]![1];
    if (end - start !== 86_400_000) out.push({ date, start, end });
  }
  return out;
}

/** Deterministic pseudo-random numbers in [0, 1) (a linear congruential generator). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Percentile with linear interpolation between closest ranks (Excel's PERCENTILE.INC). */
export function percentileInclusive(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/**
 * A series' bucket columns as one object per bucket, for assertions; every column must have one
 * entry per bucket, and p50/p90 come only with percentiles.
 */
export function pointsOf(buckets: SeriesBuckets) {
  const n = buckets.t.length;
  for (const [name, column] of Object.entries(buckets)) {
    if (column.length !== n) throw new Error(`column ${name} has ${column.length} entries for ${n} buckets`);
  }
  return buckets.t.map((t, i) => ({
    t,
    avg: buckets.avg[i]!,
    min: buckets.min[i]!,
    max: buckets.max[i]!,
    count: buckets.count[i]!,
    last: buckets.last[i]!,
    p50: buckets.p50?.[i],
    p90: buckets.p90?.[i],
  }));
}

/** Chart columns as `{ t, v }` points, for assertions. */
export function chartPointsOf(points: { t: number[]; v: number[] }) {
  if (points.t.length !== points.v.length) throw new Error(`${points.t.length} times for ${points.v.length} values`);
  return points.t.map((t, i) => ({ t, v: points.v[i]! }));
}
