import { queryColumns, type Clickhouse } from "../client";
import { bucketParams, bucketStartSql, rangeFilter, rangeParams, sourceTable, type BucketKind, type Source } from "./sources";

/**
 * Parameterized SQL of a fleet series: avg/min/max/count per sensor and bucket, for many sensors
 * at once (every sensor of a site measuring one metric), from the source the plan picked.
 */

export interface FleetSeriesQuery {
  sensorIds: string[];
  from: Date;
  to: Date;
  source: Source;
  bucket: BucketKind;
  timezone: string;
}

/** One row per sensor and bucket that holds readings, in no particular order. */
export type FleetSeriesColumns = {
  sensor_id: string[];
  /** Bucket starts, Unix seconds. */
  t: number[];
  mean: number[];
  lo: number[];
  hi: number[];
  n: number[];
};

/**
 * The per-bucket aggregates (aliases differ from column names, see sources.ts). Rollup rows of
 * one bucket may not be merged yet, so they are always aggregated again. No last value: the
 * rollups keep it as an argMax state whose merge costs more than the other four together.
 */
function fleetAggregates(source: Source): string {
  return source === "raw"
    ? "avg(value) AS mean, min(value) AS lo, max(value) AS hi, count() AS n"
    : "sum(sum_value) / sum(count) AS mean, min(min_value) AS lo, max(max_value) AS hi, sum(count) AS n";
}

export function fleetSeriesSql(ch: Clickhouse, q: FleetSeriesQuery) {
  const query = `SELECT sensor_id, ${bucketStartSql(q.source, q.bucket)} AS t, ${fleetAggregates(q.source)}
FROM ${sourceTable(ch, q.source)}
WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter(q.source)}
GROUP BY sensor_id, t`;
  return { query, params: { ids: q.sensorIds, ...rangeParams(q.source, q.from, q.to), ...bucketParams(q.bucket, q.timezone) } };
}

export async function queryFleetSeries(ch: Clickhouse, q: FleetSeriesQuery): Promise<FleetSeriesColumns> {
  if (q.sensorIds.length === 0) return { sensor_id: [], t: [], mean: [], lo: [], hi: [], n: [] };
  const { query, params } = fleetSeriesSql(ch, q);
  return (await queryColumns<FleetSeriesColumns>(ch, query, params)).columns;
}
