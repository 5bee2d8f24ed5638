import { queryColumns, type Clickhouse } from "../client";
import { mirrorsOf, type LatestOfList } from "../mirror";

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

/**
 * The same, but each sensor's latest reading only if taken at or after its `since` (epoch ms, in
 * the order of the ids): a plant's latest values are the readings its sensors took since they
 * were assigned to it. A sensor whose latest reading is older has none for the plant yet.
 */
export function latestSinceSql(ch: Clickhouse, sensorIds: string[], since: number[]) {
  const { query, params } = latestSql(ch, sensorIds);
  return {
    query: `${query}
HAVING t_ms >= {since:Array(Int64)}[indexOf({ids:Array(UUID)}, sensor_id)]`,
    params: { ...params, since },
  };
}

/**
 * The latest reading of each of these sensors that has one (in `since` order: taken at or after
 * the sensor's `since`): from this process's exact copy on embedded chDB (`heldLatest`), from
 * the engine otherwise.
 */
export async function queryLatest(ch: Clickhouse, sensorIds: string[], since?: number[]): Promise<LatestColumns> {
  if (sensorIds.length === 0) return { sensor_id: [], v: [], t_ms: [] };
  const held = await heldLatest(ch, sensorIds);
  if (held) {
    const columns: LatestColumns = { sensor_id: [], v: [], t_ms: [] };
    for (let i = 0; i < sensorIds.length; i++) {
      const ts = held.ts[i]!;
      if (Number.isNaN(ts) || (since && ts < since[i]!)) continue;
      columns.sensor_id.push(sensorIds[i]!);
      columns.v.push(held.value[i]!);
      columns.t_ms.push(ts);
    }
    return columns;
  }
  const { query, params } = since ? latestSinceSql(ch, sensorIds, since) : latestSql(ch, sensorIds);
  return (await queryColumns<LatestColumns>(ch, query, params)).columns;
}

/**
 * On embedded chDB, the latest reading of each of these sensors in their order (NaN where none)
 * from this process's exact copy (../mirror); undefined elsewhere. Callers asking for the same
 * array of ids again (a site's list) get it by indexing, without a lookup per sensor.
 */
export function heldLatest(ch: Clickhouse, sensorIds: readonly string[]): Promise<LatestOfList> | undefined {
  return mirrorsOf(ch)?.latest.readList(sensorIds);
}
