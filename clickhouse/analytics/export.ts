import { queryRows, type Clickhouse } from "../client";
import { rangeFilter, rangeParams, sourceTable } from "./sources";
import { rawWindowRows, type ReadingWindow } from "./windows";

export interface ExportRow {
  sensor_id: string;
  /** Epoch ms. (Aliases never repeat a column name: ClickHouse would read them in WHERE.) */
  t_ms: number | string;
  v: number;
  raw_v: number;
}

/**
 * Raw readings of the sensors in one time window, in time order, at most `limit` of them. The
 * export walks the range window by window (shrinking a window that overflows), so memory stays
 * bounded whatever the range: chDB materializes each answer, and a server streams it. With
 * `windows` (a plant's or a metric's: per-sensor spans within from..to), only the readings inside them.
 */
export function queryExportWindow(
  ch: Clickhouse,
  q: { sensorIds: string[]; from: Date; to: Date; limit: number; windows?: readonly ReadingWindow[] | undefined },
): Promise<ExportRow[]> {
  const rows = q.windows
    ? rawWindowRows(ch, q.windows)
    : { from: sourceTable(ch, "raw"), where: `sensor_id IN {ids:Array(UUID)} AND ${rangeFilter("raw")}`, params: { ids: q.sensorIds, ...rangeParams("raw", q.from, q.to) } };
  return queryRows<ExportRow>(
    ch,
    `SELECT sensor_id, toUnixTimestamp64Milli(ts) AS t_ms, value AS v, raw_value AS raw_v
FROM ${rows.from}
WHERE ${rows.where}
ORDER BY ts, sensor_id
LIMIT {limit:UInt32}`,
    { ...rows.params, limit: q.limit },
  );
}
