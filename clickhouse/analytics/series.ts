import { queryColumns, type Clickhouse } from "../client";
import { aggregateColumns, bucketParams, bucketStartSql, rangeFilter, rangeParams, sourceTable, type BucketKind, type Source } from "./sources";
import { windowRows, type ReadingWindow, type RowSource } from "./windows";

/** Parameterized analytics SQL: bucketed series and downsampled chart points. */

/**
 * Per-sensor windows instead of one range for all (a plant's sensors, each read only while it was
 * the plant's), and where raw readings start (older partial buckets come from the rollup whole).
 */
export interface Windows {
  list: readonly ReadingWindow[];
  /** Epoch ms: the raw retention's start. */
  rawStart: number;
}

export interface SeriesQuery {
  sensorIds: string[];
  from: Date;
  to: Date;
  source: Source;
  bucket: BucketKind;
  timezone: string;
  percentiles: boolean;
  /** When given, only the readings inside these windows (they lie within from..to). */
  windows?: Windows | undefined;
}

/** The rows a query reads: the sensors' over the whole range, or only those inside the windows. */
function rowsOf(ch: Clickhouse, source: Source, q: { sensorIds: string[]; from: Date; to: Date; windows?: Windows | undefined }): RowSource {
  if (q.windows) return windowRows(ch, source, q.windows.list, q.windows.rawStart);
  return { from: sourceTable(ch, source), where: `sensor_id IN {ids:Array(UUID)} AND ${rangeFilter(source)}`, params: { ids: q.sensorIds, ...rangeParams(source, q.from, q.to) } };
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
  const rows = rowsOf(ch, q.source, q);
  const query = `SELECT sensor_id, ${bucketStartSql(q.source, q.bucket)} AS t, ${aggregateColumns(q.source, q.percentiles)}
FROM ${rows.from}
WHERE ${rows.where}
GROUP BY sensor_id, t
ORDER BY sensor_id, t`;
  return { query, params: { ...rows.params, ...bucketParams(q.bucket, q.timezone) } };
}

export async function querySeries(ch: Clickhouse, q: SeriesQuery): Promise<SeriesColumns> {
  const { query, params } = seriesSql(ch, q);
  return (await queryColumns<SeriesColumns>(ch, query, params)).columns;
}

export interface ChartQuery {
  sensorIds: string[];
  from: Date;
  to: Date;
  /** Raw readings, or the 1-hour rollup's min/max envelope for ranges beyond the raw retention. */
  source: "raw" | "1h";
  points: number;
  /** When given, only the readings inside these windows (they lie within from..to). */
  windows?: Windows | undefined;
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
  const rows = rowsOf(ch, q.source, q);
  const query =
    q.source === "raw"
      ? `SELECT sensor_id, t, v FROM (SELECT sensor_id, ${lttb("x", "y")}
FROM (SELECT sensor_id, ts AS x, value AS y FROM ${rows.from}
      WHERE ${rows.where})
GROUP BY sensor_id)`
      : `SELECT sensor_id, t, v FROM (SELECT sensor_id, ${lttb("pt.1", "pt.2")}
FROM (SELECT sensor_id, toDateTime64(bucket, 3, 'UTC') AS start, min(min_value) AS lo, max(max_value) AS hi
      FROM ${rows.from}
      WHERE ${rows.where}
      GROUP BY sensor_id, bucket)
ARRAY JOIN [(start, lo), (start + toIntervalMinute(30), hi)] AS pt
GROUP BY sensor_id)`;
  return { query, params: { ...rows.params, n: q.points } };
}

export async function queryChart(ch: Clickhouse, q: ChartQuery): Promise<ChartColumns> {
  const { query, params } = chartSql(ch, q);
  return (await queryColumns<ChartColumns>(ch, query, params)).columns;
}
