import { queryColumns, type Clickhouse } from "../client";

/** One entry per sensor that ever reported. */
export type LatestColumns = {
  sensor_id: string[];
  v: number[];
  /** Epoch ms. (Aliases never repeat a column name: ClickHouse would read them in WHERE.) */
  t_ms: number[];
};

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

export async function queryLatest(ch: Clickhouse, sensorIds: string[]): Promise<LatestColumns> {
  if (sensorIds.length === 0) return { sensor_id: [], v: [], t_ms: [] };
  const { query, params } = latestSql(ch, sensorIds);
  return (await queryColumns<LatestColumns>(ch, query, params)).columns;
}
