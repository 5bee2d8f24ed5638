import { queryRows, type Clickhouse } from "../client";

export interface LatestRow {
  sensor_id: string;
  v: number;
  /** Epoch ms. (Aliases never repeat a column name: ClickHouse would read them in WHERE.) */
  t_ms: number | string;
}

/**
 * The latest reading of each sensor from `readings_latest` (one row per sensor once merged; until
 * then argMax picks the newest of the unmerged rows, so no FINAL is needed).
 */
export function latestSql(ch: Clickhouse, sensorIds: string[]) {
  return {
    query: `SELECT sensor_id, argMax(value, ts) AS v, toUnixTimestamp64Milli(max(ts)) AS t_ms
FROM ${ch.database}.readings_latest
WHERE sensor_id IN {ids:Array(UUID)}
GROUP BY sensor_id`,
    params: { ids: sensorIds },
  };
}

export function queryLatest(ch: Clickhouse, sensorIds: string[]): Promise<LatestRow[]> {
  if (sensorIds.length === 0) return Promise.resolve([]);
  const { query, params } = latestSql(ch, sensorIds);
  return queryRows<LatestRow>(ch, query, params);
}
