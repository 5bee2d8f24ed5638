import type { Clickhouse } from "../client";

/**
 * Where bucketed numbers come from. Raw readings are exact but kept for the raw retention only;
 * the 1-minute and 1-hour rollups (min, max, sum, count, last) are kept longer and are what makes
 * a two-year query as cheap as a one-day one. A source can serve a bucket when every one of its
 * rows falls inside one bucket, i.e. the bucket's boundaries are on the source's grid.
 */
export type Source = "raw" | "1m" | "1h";

export const SOURCE_SECONDS: Record<Source, number> = { raw: 0, "1m": 60, "1h": 3600 };

export function sourceTable(ch: Clickhouse, source: Source): string {
  return `${ch.database}.${source === "raw" ? "readings" : `readings_${source}`}`;
}

/** The time column of a source: raw `ts` (DateTime64(3)), rollups `bucket` (DateTime, the bucket start). */
export function timeColumn(source: Source): string {
  return source === "raw" ? "ts" : "bucket";
}

/**
 * Per-bucket aggregates over a source (aliases differ from column names: ClickHouse would otherwise
 * read `count` in `sum(count)` as the alias). Rollup tables are AggregatingMergeTree: rows of one
 * (sensor, minute) may not be merged yet, so they are always re-aggregated here.
 */
export function aggregateColumns(source: Source, percentiles: boolean): string {
  if (source === "raw") {
    return [
      "avg(value) AS mean",
      "min(value) AS lo",
      "max(value) AS hi",
      "count() AS n",
      "argMax(value, ts) AS last_v",
      percentiles ? "quantilesExactInclusive(0.5, 0.9)(value) AS pct" : "[] AS pct",
    ].join(", ");
  }
  return [
    "sum(sum_value) / sum(count) AS mean",
    "min(min_value) AS lo",
    "max(max_value) AS hi",
    "sum(count) AS n",
    "argMaxMerge(last_value) AS last_v",
    "[] AS pct",
  ].join(", ");
}

/** The range filter on a source, with `{from:…}`/`{to:…}` parameters in the column's type. */
export function rangeFilter(source: Source): string {
  return source === "raw"
    ? "ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}"
    : "bucket >= {from:DateTime('UTC')} AND bucket < {to:DateTime('UTC')}";
}

/** Parameters for rangeFilter: DateTime64 takes fractional seconds, DateTime whole seconds. */
export function rangeParams(source: Source, from: Date, to: Date) {
  if (source === "raw") return { from: from.getTime() / 1000, to: to.getTime() / 1000 };
  return { from: Math.floor(from.getTime() / 1000), to: Math.ceil(to.getTime() / 1000) };
}

export type BucketKind = { kind: "fixed"; seconds: number } | { kind: "day" | "week" | "month" };

/**
 * The bucket start (Unix seconds) of a row. Fixed buckets are aligned to the UTC epoch; calendar
 * buckets start at local midnight in `{tz:String}` (ClickHouse's zone-aware functions take the
 * zone as a parameter, so a day across a DST change has 23 or 25 hours).
 */
export function bucketStartSql(source: Source, bucket: BucketKind): string {
  const col = timeColumn(source);
  switch (bucket.kind) {
    case "fixed":
      return `intDiv(toUnixTimestamp(${col}), {step:UInt32}) * {step:UInt32}`;
    case "day":
      return `toUnixTimestamp(toStartOfDay(${col}, {tz:String}))`;
    case "week":
      return `toUnixTimestamp(toDateTime(toMonday(${col}, {tz:String}), {tz:String}))`;
    case "month":
      return `toUnixTimestamp(toDateTime(toStartOfMonth(${col}, {tz:String}), {tz:String}))`;
  }
}

export function bucketParams(bucket: BucketKind, timezone: string): Record<string, unknown> {
  return bucket.kind === "fixed" ? { step: bucket.seconds } : { tz: timezone };
}
