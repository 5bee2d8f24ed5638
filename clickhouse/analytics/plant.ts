import { queryRows, type Clickhouse } from "../client";
import { rangeFilter, rangeParams, sourceTable, SOURCE_SECONDS } from "./sources";

/**
 * Daily plant-care figures in the site's time zone, from a rollup whose buckets never straddle a
 * local midnight (the 1-hour rollup for whole-hour zones, else the 1-minute one).
 */

export interface DailyQuery {
  sensorIds: string[];
  from: Date;
  to: Date;
  source: "1m" | "1h";
  timezone: string;
}

const day = "toUnixTimestamp(toStartOfDay(bucket, {tz:String}))";
const params = (q: DailyQuery) => ({ ids: q.sensorIds, tz: q.timezone, ...rangeParams(q.source, q.from, q.to) });

export interface LightDayRow {
  day: number;
  /** ∫ lux dt over the day's buckets with readings, lux·s. */
  lux_seconds: number;
  /** Buckets (minutes or hours) of the day with readings. */
  buckets: number | string;
}

/** Light integrated over each local day: each rollup bucket's mean lux times the bucket's length. */
export function queryLightIntegral(ch: Clickhouse, q: DailyQuery): Promise<LightDayRow[]> {
  return queryRows<LightDayRow>(
    ch,
    `SELECT day, sum(lux) * {g:UInt32} AS lux_seconds, count() AS buckets
FROM (SELECT bucket, ${day} AS day, sum(sum_value) / sum(count) AS lux
      FROM ${sourceTable(ch, q.source)}
      WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter(q.source)}
      GROUP BY bucket)
GROUP BY day ORDER BY day`,
    { ...params(q), g: SOURCE_SECONDS[q.source] },
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
 * then the mean, minimum and maximum per local day.
 */
export function queryVpdDaily(ch: Clickhouse, q: DailyQuery & { temperatureIds: string[]; humidityIds: string[] }): Promise<VpdDayRow[]> {
  return queryRows<VpdDayRow>(
    ch,
    `SELECT day, avg(vpd) AS mean, min(vpd) AS lo, max(vpd) AS hi, count() AS buckets
FROM (SELECT bucket, ${day} AS day,
             sumIf(sum_value, sensor_id IN {t:Array(UUID)}) / sumIf(count, sensor_id IN {t:Array(UUID)}) AS temp,
             least(greatest(sumIf(sum_value, sensor_id IN {h:Array(UUID)}) / sumIf(count, sensor_id IN {h:Array(UUID)}), 0), 100) AS rh,
             0.6108 * exp(17.27 * temp / (temp + 237.3)) * (1 - rh / 100) AS vpd
      FROM ${sourceTable(ch, q.source)}
      WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter(q.source)}
      GROUP BY bucket
      HAVING sumIf(count, sensor_id IN {t:Array(UUID)}) > 0 AND sumIf(count, sensor_id IN {h:Array(UUID)}) > 0)
GROUP BY day ORDER BY day`,
    { ...params({ ...q, sensorIds: [...q.temperatureIds, ...q.humidityIds] }), t: q.temperatureIds, h: q.humidityIds },
  );
}

export interface SensorDayRow {
  sensor_id: string;
  day: number;
  total: number;
  n: number | string;
  lo: number;
  hi: number;
}

/** Sum, count, min and max per sensor and local day. */
export function queryDailyBySensor(ch: Clickhouse, q: DailyQuery): Promise<SensorDayRow[]> {
  return queryRows<SensorDayRow>(
    ch,
    `SELECT sensor_id, ${day} AS day, sum(sum_value) AS total, sum(count) AS n, min(min_value) AS lo, max(max_value) AS hi
FROM ${sourceTable(ch, q.source)}
WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter(q.source)}
GROUP BY sensor_id, day ORDER BY sensor_id, day`,
    params(q),
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
export function queryMeanPoints(ch: Clickhouse, q: { sensorIds: string[]; from: Date; to: Date }): Promise<MeanPointRow[]> {
  return queryRows<MeanPointRow>(
    ch,
    `SELECT avg(toUnixTimestamp64Milli(ts)) AS t, avg(value) AS v
FROM ${sourceTable(ch, "raw")}
WHERE sensor_id IN {ids:Array(UUID)} AND ${rangeFilter("raw")}
GROUP BY intDiv(toUnixTimestamp(ts), 600) AS slot ORDER BY slot`,
    { ids: q.sensorIds, ...rangeParams("raw", q.from, q.to) },
  );
}
