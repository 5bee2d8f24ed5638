import type { BucketKind, Source } from "../../clickhouse/analytics/sources";
import { BUCKET_SECONDS, BUCKETS, MAX_BUCKETS, type Bucket } from "../../shared/schemas/analytics";
import { fromWallClock, offsetMs, toWallClock } from "../../shared/zoned-time";
import { AppError } from "../platform";

/**
 * How a series is computed: the bucket, the source that can serve it, and the range widened to
 * whole buckets (so a rollup row is never half inside the range). Pure: testable without stores.
 */

export interface SeriesPlan {
  bucket: Bucket;
  kind: BucketKind;
  source: Source;
  /** The range widened to whole buckets. */
  from: Date;
  to: Date;
}

export interface PlanOptions {
  timezone: string;
  now: Date;
  /** Raw readings older than this many days are gone (TTL). */
  rawRetentionDays: number;
}

const DAY_MS = 86_400_000;

export function bucketKind(bucket: Bucket): BucketKind {
  if (bucket === "1d") return { kind: "day" };
  if (bucket === "1w") return { kind: "week" };
  if (bucket === "1mo") return { kind: "month" };
  return { kind: "fixed", seconds: BUCKET_SECONDS[bucket] };
}

/** Start of the bucket holding `t`. */
export function bucketStart(t: Date, kind: BucketKind, timezone: string): Date {
  if (kind.kind === "fixed") {
    const step = kind.seconds * 1000;
    return new Date(Math.floor(t.getTime() / step) * step);
  }
  const wall = toWallClock(t, timezone);
  const y = wall.getUTCFullYear();
  const m = wall.getUTCMonth();
  const d = wall.getUTCDate();
  let start: number;
  if (kind.kind === "day") start = Date.UTC(y, m, d);
  else if (kind.kind === "month") start = Date.UTC(y, m, 1);
  else start = Date.UTC(y, m, d - ((wall.getUTCDay() + 6) % 7)); // back to Monday
  return fromWallClock(new Date(start), timezone);
}

/** Start of the bucket after the one starting at `start`. */
export function nextBucketStart(start: Date, kind: BucketKind, timezone: string): Date {
  if (kind.kind === "fixed") return new Date(start.getTime() + kind.seconds * 1000);
  const wall = toWallClock(start, timezone);
  const y = wall.getUTCFullYear();
  const m = wall.getUTCMonth();
  const d = wall.getUTCDate();
  const next = kind.kind === "day" ? Date.UTC(y, m, d + 1) : kind.kind === "week" ? Date.UTC(y, m, d + 7) : Date.UTC(y, m + 1, 1);
  return fromWallClock(new Date(next), timezone);
}

/** The range widened to whole buckets: from down to its bucket's start, to up to a bucket end. */
export function alignRange(from: Date, to: Date, kind: BucketKind, timezone: string): { from: Date; to: Date } {
  const start = bucketStart(from, kind, timezone);
  const lastStart = bucketStart(new Date(to.getTime() - 1), kind, timezone);
  return { from: start, to: nextBucketStart(lastStart, kind, timezone) };
}

const wholeHourCache = new Map<string, boolean>();

/**
 * Whether the zone's offset from UTC is a whole number of hours throughout [from, to], so its local
 * midnights fall on UTC hour boundaries and the hourly rollup can serve calendar buckets. Offsets
 * are sampled at both ends and in January and July of every year between (standard and summer
 * time). Asia/Kolkata (+5:30), Asia/Kathmandu (+5:45) or Australia/Lord_Howe (+10:30/+11) are not.
 */
export function hasWholeHourOffsets(timezone: string, from: Date, to: Date): boolean {
  const key = `${timezone}|${from.getUTCFullYear()}|${to.getUTCFullYear()}`;
  const cached = wholeHourCache.get(key);
  if (cached !== undefined) return cached;
  const samples = [from, to];
  for (let y = from.getUTCFullYear(); y <= to.getUTCFullYear(); y++) samples.push(new Date(Date.UTC(y, 0, 1)), new Date(Date.UTC(y, 6, 1)));
  const whole = samples.every((t) => offsetMs(t, timezone) % 3_600_000 === 0);
  if (wholeHourCache.size > 10_000) wholeHourCache.clear();
  wholeHourCache.set(key, whole);
  return whole;
}

/** The coarsest source whose rows fall entirely inside one bucket. */
export function sourceFor(kind: BucketKind, timezone: string, from: Date, to: Date): Source {
  if (kind.kind === "fixed") {
    if (kind.seconds % 3600 === 0) return "1h";
    if (kind.seconds % 60 === 0) return "1m";
    return "raw";
  }
  return hasWholeHourOffsets(timezone, from, to) ? "1h" : "1m";
}

function bucketCount(from: Date, to: Date, bucket: Bucket): number {
  return Math.ceil((to.getTime() - from.getTime()) / (BUCKET_SECONDS[bucket] * 1000));
}

/** The oldest instant raw readings are still kept for. */
export function rawRetentionStart(now: Date, rawRetentionDays: number): Date {
  return new Date(now.getTime() - rawRetentionDays * DAY_MS);
}

export function planSeries(
  input: { from: Date; to: Date; bucket: Bucket | "auto"; maxPoints: number; percentiles: boolean },
  options: PlanOptions,
): SeriesPlan {
  const rawStart = rawRetentionStart(options.now, options.rawRetentionDays);
  const rawAvailable = input.from.getTime() >= rawStart.getTime();
  if (input.percentiles && !rawAvailable) {
    throw new AppError(
      "BAD_REQUEST",
      `percentiles come from raw readings, which are kept ${options.rawRetentionDays} days: start the range at ${rawStart.toISOString()} or later`,
      { path: "percentiles" },
    );
  }
  let bucket: Bucket;
  if (input.bucket === "auto") {
    const candidates = BUCKETS.filter((b) => rawAvailable || BUCKET_SECONDS[b] >= 60);
    const fits = candidates.find((b) => bucketCount(input.from, input.to, b) <= input.maxPoints);
    if (!fits) {
      throw new AppError("BAD_REQUEST", `even monthly buckets make more than ${input.maxPoints} points over this range: allow more points`, {
        path: "maxPoints",
      });
    }
    bucket = fits;
  } else {
    bucket = input.bucket;
    const count = bucketCount(input.from, input.to, bucket);
    if (count > MAX_BUCKETS) {
      throw new AppError("BAD_REQUEST", `${bucket} buckets over this range make ${count} points per sensor, more than ${MAX_BUCKETS}: choose a larger bucket`, {
        path: "bucket",
      });
    }
    if (BUCKET_SECONDS[bucket] < 60 && !rawAvailable) {
      throw new AppError(
        "BAD_REQUEST",
        `buckets under a minute come from raw readings, which are kept ${options.rawRetentionDays} days: start the range at ${rawStart.toISOString()} or later`,
        { path: "bucket" },
      );
    }
  }
  const kind = bucketKind(bucket);
  const range = alignRange(input.from, input.to, kind, options.timezone);
  const source = input.percentiles ? "raw" : sourceFor(kind, options.timezone, range.from, range.to);
  return { bucket, kind, source, ...range };
}

