import { queryRows, type Clickhouse } from "../client";
import { rangeFilter, rangeParams, sourceTable } from "./sources";

/** Device and sensor health: battery trends, stuck and spiking sensors, readings per hour. */

export interface TrendRow {
  sensor_id: string;
  /** Slope, value units per second, of the least-squares line through the hourly means. */
  slope: number;
  /** The latest hourly mean, and the number of hours with readings. */
  current: number;
  hours: number | string;
}

/** A least-squares trend per sensor over the hourly rollup (each hour placed at its middle). */
export function queryHourlyTrends(ch: Clickhouse, q: { sensorIds: string[]; from: Date; to: Date }): Promise<TrendRow[]> {
  return queryRows<TrendRow>(
    ch,
    `SELECT sensor_id, simpleLinearRegression(toFloat64(toUnixTimestamp(bucket) + 1800), mean).1 AS slope,
        argMax(mean, bucket) AS current, count() AS hours
FROM (SELECT sensor_id, bucket, sum(sum_value) / sum(count) AS mean
      FROM ${sourceTable(ch, "1h")}
      WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter("1h")}
      GROUP BY sensor_id, bucket)
GROUP BY sensor_id`,
    { ids: q.sensorIds, ...rangeParams("1h", q.from, q.to) },
  );
}

export interface StuckRow {
  sensor_id: string;
  v: number;
  n: number | string;
  first: number | string;
  last: number | string;
}

/** Sensors whose every reading since `from` had the same value (at least `minReadings` of them). */
export function queryStuck(ch: Clickhouse, q: { sensorIds: string[]; from: Date; to: Date; minReadings: number }): Promise<StuckRow[]> {
  return queryRows<StuckRow>(
    ch,
    `SELECT sensor_id, any(value) AS v, count() AS n,
        toUnixTimestamp64Milli(min(ts)) AS first, toUnixTimestamp64Milli(max(ts)) AS last
FROM ${sourceTable(ch, "raw")}
WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter("raw")}
GROUP BY sensor_id
HAVING count() >= {minReadings:UInt32} AND min(value) = max(value)`,
    { ids: q.sensorIds, minReadings: q.minReadings, ...rangeParams("raw", q.from, q.to) },
  );
}

export interface SpikeRow {
  sensor_id: string;
  median: number;
  /** Median absolute deviation of the baseline, and its mean absolute deviation (fallback when MAD is 0). */
  mad: number;
  meanad: number;
  /** The recent reading furthest from the median, when it was taken (epoch ms), and how far. */
  v: number;
  t_ms: number | string;
  deviation: number;
}

/**
 * For each sensor: median and MAD of its readings in [baselineFrom, recentFrom), and the reading of
 * [recentFrom, to) furthest from that median. The robust z-score is 0.6745 · deviation / MAD
 * (Iglewicz and Hoaglin), computed by the caller.
 */
export function querySpikes(ch: Clickhouse, q: { sensorIds: string[]; baselineFrom: Date; recentFrom: Date; to: Date }): Promise<SpikeRow[]> {
  const raw = sourceTable(ch, "raw");
  return queryRows<SpikeRow>(
    ch,
    `SELECT s.sensor_id AS sensor_id, s.med AS median, s.mad AS mad, s.meanad AS meanad,
        argMax(r.value, abs(r.value - s.med)) AS v,
        toUnixTimestamp64Milli(argMax(r.ts, abs(r.value - s.med))) AS t_ms,
        max(abs(r.value - s.med)) AS deviation
FROM (SELECT b.sensor_id AS sensor_id, any(m.med) AS med,
             quantileExact(0.5)(abs(b.value - m.med)) AS mad, avg(abs(b.value - m.med)) AS meanad
      FROM ${raw} AS b
      INNER JOIN (SELECT sensor_id, quantileExact(0.5)(value) AS med FROM ${raw}
                  WHERE sensor_id IN {ids:Array(UUID)} AND ts >= {base:DateTime64(3, 'UTC')} AND ts < {recent:DateTime64(3, 'UTC')}
                  GROUP BY sensor_id) AS m ON b.sensor_id = m.sensor_id
      WHERE b.sensor_id IN {ids:Array(UUID)} AND b.ts >= {base:DateTime64(3, 'UTC')} AND b.ts < {recent:DateTime64(3, 'UTC')}
      GROUP BY b.sensor_id) AS s
INNER JOIN ${raw} AS r ON r.sensor_id = s.sensor_id
WHERE r.sensor_id IN {ids:Array(UUID)} AND r.ts >= {recent:DateTime64(3, 'UTC')} AND r.ts < {to:DateTime64(3, 'UTC')}
GROUP BY s.sensor_id, s.med, s.mad, s.meanad`,
    { ids: q.sensorIds, base: q.baselineFrom.getTime() / 1000, recent: q.recentFrom.getTime() / 1000, to: q.to.getTime() / 1000 },
  );
}

export interface HourCountRow {
  /** Hour start, Unix seconds. */
  t: number;
  n: number | string;
}

/** Readings per hour (by their timestamp) over the sensors, from the hourly rollup. */
export function readingsPerHourSql(ch: Clickhouse, q: { sensorIds: string[]; from: Date; to: Date }) {
  return {
    query: `SELECT toUnixTimestamp(bucket) AS t, sum(count) AS n
FROM ${sourceTable(ch, "1h")}
WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter("1h")}
GROUP BY bucket ORDER BY bucket`,
    params: { ids: q.sensorIds, ...rangeParams("1h", q.from, q.to) },
  };
}

export function queryReadingsPerHour(ch: Clickhouse, q: { sensorIds: string[]; from: Date; to: Date }): Promise<HourCountRow[]> {
  const { query, params } = readingsPerHourSql(ch, q);
  return queryRows<HourCountRow>(ch, query, params);
}
