import { queryRows, type Clickhouse } from "../client";
import { SOURCE_SECONDS } from "./sources";
import type { RowSource } from "./windows";

/**
 * Daily plant-care figures in the site's time zone, from a rollup whose buckets never straddle a
 * local midnight (the 1-hour rollup for whole-hour zones, else the 1-minute one). Every query reads
 * the plant's rows through per-sensor windows (./windows.ts): a sensor counts only while it was the
 * plant's and measured the metric in question.
 */

export interface DailyQuery {
  source: "1m" | "1h";
  timezone: string;
}

const day = "toUnixTimestamp(toStartOfDay(bucket, {tz:String}))";

export interface LightDayRow {
  day: number;
  /** ∫ lux dt over the day's buckets with readings, lux·s. */
  lux_seconds: number;
  /** Buckets (minutes or hours) of the day with readings. */
  buckets: number | string;
}

/** Light integrated over each local day: each rollup bucket's mean lux times the bucket's length. */
export function queryLightIntegral(ch: Clickhouse, q: DailyQuery & { light: RowSource }): Promise<LightDayRow[]> {
  return queryRows<LightDayRow>(
    ch,
    `SELECT day, sum(lux) * {g:UInt32} AS lux_seconds, count() AS buckets
FROM (SELECT bucket, ${day} AS day, sum(sum_value) / sum(count) AS lux
      FROM ${q.light.from}
      WHERE ${q.light.where}
      GROUP BY bucket)
GROUP BY day ORDER BY day`,
    { ...q.light.params, tz: q.timezone, g: SOURCE_SECONDS[q.source] },
  );
}

export interface VpdDayRow {
  day: number;
  mean: number;
  lo: number;
  hi: number;
  buckets: number | string;
}

/**
 * Vapour pressure deficit per bucket where both temperature and humidity were measured:
 * VPD = 0.6108 · exp(17.27·T / (T + 237.3)) · (1 − RH/100) kPa (Tetens), from the bucket means;
 * then the mean, minimum and maximum per local day. Temperature and humidity rows are told apart by
 * the windows they come from, not by sensor: a sensor may have measured both, one after the other.
 */
export function queryVpdDaily(ch: Clickhouse, q: DailyQuery & { temperature: RowSource; humidity: RowSource }): Promise<VpdDayRow[]> {
  return queryRows<VpdDayRow>(
    ch,
    `SELECT day, avg(vpd) AS mean, min(vpd) AS lo, max(vpd) AS hi, count() AS buckets
FROM (SELECT bucket, ${day} AS day,
             sumIf(sum_value, kind = 1) / sumIf(count, kind = 1) AS temp,
             least(greatest(sumIf(sum_value, kind = 2) / sumIf(count, kind = 2), 0), 100) AS rh,
             0.6108 * exp(17.27 * temp / (temp + 237.3)) * (1 - rh / 100) AS vpd
      FROM (SELECT 1 AS kind, bucket, sum_value, count FROM ${q.temperature.from} WHERE ${q.temperature.where}
            UNION ALL
            SELECT 2 AS kind, bucket, sum_value, count FROM ${q.humidity.from} WHERE ${q.humidity.where})
      GROUP BY bucket
      HAVING sumIf(count, kind = 1) > 0 AND sumIf(count, kind = 2) > 0)
GROUP BY day ORDER BY day`,
    { ...q.temperature.params, ...q.humidity.params, tz: q.timezone },
  );
}

export interface MetricDayRow {
  /** Index into the query's metrics. (Not `metric`: the rollups have a column of that name.) */
  m: number;
  day: number;
  total: number;
  n: number | string;
  lo: number;
  hi: number;
}

/** Sum, count, min and max per metric and local day, each metric from its own windows. */
export function queryDailyByMetric(ch: Clickhouse, q: DailyQuery & { metrics: RowSource[] }): Promise<MetricDayRow[]> {
  if (q.metrics.length === 0) return Promise.resolve([]);
  const union = q.metrics
    .map((rows, i) => `SELECT ${i} AS m, bucket, sum_value, count, min_value, max_value FROM ${rows.from} WHERE ${rows.where}`)
    .join("\nUNION ALL\n");
  return queryRows<MetricDayRow>(
    ch,
    `SELECT m, ${day} AS day, sum(sum_value) AS total, sum(count) AS n, min(min_value) AS lo, max(max_value) AS hi
FROM (${union})
GROUP BY m, day ORDER BY m, day`,
    Object.assign({ tz: q.timezone }, ...q.metrics.map((rows) => rows.params)),
  );
}

export interface MeanPointRow {
  /** Mean timestamp of the readings in the slot, epoch ms. */
  t: number;
  /** Mean value over the plant's sensors in the slot. */
  v: number;
}

/**
 * Raw readings averaged in 10-minute slots, each placed at the mean time of its readings (which
 * keeps a linear trend exact). The drying rate is fitted to these.
 */
export function queryMeanPoints(ch: Clickhouse, raw: RowSource): Promise<MeanPointRow[]> {
  return queryRows<MeanPointRow>(
    ch,
    `SELECT avg(toUnixTimestamp64Milli(ts)) AS t, avg(value) AS v
FROM ${raw.from}
WHERE ${raw.where}
GROUP BY intDiv(toUnixTimestamp(ts), 600) AS slot ORDER BY slot`,
    raw.params,
  );
}
