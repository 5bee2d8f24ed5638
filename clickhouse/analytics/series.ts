import { queryColumns, queryJsonText, type Clickhouse } from "../client";
import { aggregateColumns, bucketParams, bucketStartSql, rangeFilter, rangeParams, sourceTable, type BucketKind, type Source } from "./sources";

/** Parameterized analytics SQL: bucketed series and downsampled chart points. */

export interface SeriesQuery {
  sensorIds: string[];
  from: Date;
  to: Date;
  source: Source;
  bucket: BucketKind;
  timezone: string;
  percentiles: boolean;
}

/** A series query's result, column by column, ordered by sensor and then bucket. */
export type SeriesColumns = {
  sensor_id: string[];
  /** Bucket starts, Unix seconds. */
  t: number[];
  mean: number[];
  lo: number[];
  hi: number[];
  n: number[];
  last_v: number[];
  /** Per bucket [p50, p90] from raw readings, else empty. */
  pct: number[][];
};

export function seriesSql(ch: Clickhouse, q: SeriesQuery) {
  const query = `SELECT sensor_id, ${bucketStartSql(q.source, q.bucket)} AS t, ${aggregateColumns(q.source, q.percentiles)}
FROM ${sourceTable(ch, q.source)}
WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter(q.source)}
GROUP BY sensor_id, t
ORDER BY sensor_id, t`;
  return { query, params: { ids: q.sensorIds, ...rangeParams(q.source, q.from, q.to), ...bucketParams(q.bucket, q.timezone) } };
}

export async function querySeries(ch: Clickhouse, q: SeriesQuery): Promise<SeriesColumns> {
  const { query, params } = seriesSql(ch, q);
  return (await queryColumns<SeriesColumns>(ch, query, params)).columns;
}

/**
 * One sensor's series as the JSON of its buckets, `{ "t": [...], "avg": [...], "min", "max",
 * "count", "last"[, "p50", "p90"] }` with `t` in epoch ms: the answer's own shape
 * (server/analytics/series.ts), so the server can send it on as the engine wrote it.
 */
export function sensorBucketsSql(ch: Clickhouse, q: SeriesQuery) {
  const { query, params } = seriesSql(ch, q);
  const percentiles = q.percentiles ? ", pct[1] AS p50, pct[2] AS p90" : "";
  return {
    query: `SELECT t * 1000 AS t, mean AS avg, lo AS min, hi AS max, n AS count, last_v AS last${percentiles}
FROM (${query})
ORDER BY t`,
    params,
  };
}

export async function querySensorBuckets(ch: Clickhouse, q: SeriesQuery): Promise<string> {
  if (q.sensorIds.length !== 1) throw new Error("sensorBucketsSql is for one sensor");
  const { query, params } = sensorBucketsSql(ch, q);
  return queryJsonText(ch, query, params, "JSONColumns");
}

export interface ChartQuery {
  sensorIds: string[];
  from: Date;
  to: Date;
  /** Raw readings, or the 1-hour rollup's min/max envelope for ranges beyond the raw retention. */
  source: "raw" | "1h";
  points: number;
}

/** One entry per sensor: its chosen points as epoch ms and values, in time order. */
export type ChartColumns = {
  sensor_id: string[];
  t: number[][];
  v: number[][];
};

/**
 * Largest-triangle-three-buckets downsampling in the engine. From raw readings every reading is a
 * candidate; from the hourly rollup each hour contributes its minimum (at the hour) and maximum (at
 * the half hour), so a short spike survives even where raw readings are gone.
 */
export function chartSql(ch: Clickhouse, q: ChartQuery) {
  const lttb = (x: string, y: string) =>
    `largestTriangleThreeBuckets({n:UInt64})(${x}, ${y}) AS points, arrayMap(p -> toUnixTimestamp64Milli(p.1), points) AS t, arrayMap(p -> p.2, points) AS v`;
  const query =
    q.source === "raw"
      ? `SELECT sensor_id, t, v FROM (SELECT sensor_id, ${lttb("x", "y")}
FROM (SELECT sensor_id, ts AS x, value AS y FROM ${sourceTable(ch, "raw")}
      WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter("raw")})
GROUP BY sensor_id)`
      : `SELECT sensor_id, t, v FROM (SELECT sensor_id, ${lttb("pt.1", "pt.2")}
FROM (SELECT sensor_id, toDateTime64(bucket, 3, 'UTC') AS start, min(min_value) AS lo, max(max_value) AS hi
      FROM ${sourceTable(ch, "1h")}
      WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter("1h")}
      GROUP BY sensor_id, bucket)
ARRAY JOIN [(start, lo), (start + toIntervalMinute(30), hi)] AS pt
GROUP BY sensor_id)`;
  return { query, params: { ids: q.sensorIds, n: q.points, ...rangeParams(q.source, q.from, q.to) } };
}

/** One sensor's chart points as the JSON `{ "t": [...], "v": [...] }` (epoch ms, values), or "" when it has none. */
export function sensorPointsSql(ch: Clickhouse, q: ChartQuery) {
  const { query, params } = chartSql(ch, q);
  return { query: `SELECT t, v FROM (${query})`, params };
}

export async function querySensorPoints(ch: Clickhouse, q: ChartQuery): Promise<string> {
  if (q.sensorIds.length !== 1) throw new Error("sensorPointsSql is for one sensor");
  const { query, params } = sensorPointsSql(ch, q);
  return queryJsonText(ch, query, params, "JSONEachRow");
}

export async function queryChart(ch: Clickhouse, q: ChartQuery): Promise<ChartColumns> {
  const { query, params } = chartSql(ch, q);
  return (await queryColumns<ChartColumns>(ch, query, params)).columns;
}
