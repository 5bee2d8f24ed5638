import { queryRows, type Clickhouse } from "./client";
import { queryLatest } from "./analytics/latest";
import { aggregateValue, mirrorsOf } from "./mirror";

/**
 * The ClickHouse reads of the automation (aggregate, offline and battery rules, automatic watering
 * and its checks), parameterized. Times are epoch ms on our side and `DateTime64(3)` in ClickHouse
 * (`fromUnixTimestamp64Milli`).
 */

/** A reading as the automation judges it: epoch ms and value. */
export interface Sample {
  at: number;
  value: number;
}

const AGGREGATE_SQL = { avg: "avg(value)", min: "min(value)", max: "max(value)" } as const;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Windows up to an hour (a rule's are usually 5–60 minutes) are summed from the recent readings in memory where there is such a copy. */
const HELD_WINDOW_MS = 3_600_000;

/** avg / min / max of each sensor's readings in [from, to]; sensors without readings are absent. */
export async function aggregateBySensor(ch: Clickhouse, sensorIds: string[], fn: keyof typeof AGGREGATE_SQL, from: number, to: number): Promise<Map<string, number>> {
  if (sensorIds.length === 0) return new Map();
  const recent = mirrorsOf(ch)?.recent;
  if (!recent || to - from > HELD_WINDOW_MS) return queryAggregates(ch, sensorIds, fn, from, to);
  const { aggregates, unheld } = await recent.aggregates(sensorIds, from, to + 1);
  const values = unheld.length > 0 ? await queryAggregates(ch, unheld, fn, from, to) : new Map<string, number>();
  for (const [id, a] of aggregates) if (a.count > 0) values.set(id, aggregateValue(a, fn));
  return values;
}

async function queryAggregates(ch: Clickhouse, sensorIds: string[], fn: keyof typeof AGGREGATE_SQL, from: number, to: number): Promise<Map<string, number>> {
  // The function comes from a fixed map, never from input.
  const rows = await queryRows<{ sensor_id: string; v: number | string }>(
    ch,
    `SELECT sensor_id, ${AGGREGATE_SQL[fn]} AS v FROM ${ch.database}.readings
     WHERE sensor_id IN {ids:Array(UUID)} AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts <= fromUnixTimestamp64Milli({to:Int64})
     GROUP BY sensor_id`,
    { ids: sensorIds, from, to },
  );
  return new Map(rows.map((r) => [r.sensor_id, Number(r.v)]));
}

/** Each sensor's latest reading (time and value). */
export async function latestBySensor(ch: Clickhouse, sensorIds: string[]): Promise<Map<string, Sample>> {
  const latest = await queryLatest(ch, sensorIds);
  return new Map(latest.sensor_id.map((id, i) => [id, { at: latest.t_ms[i]!, value: latest.v[i]! }]));
}

/** The latest value among several sensors (a plant's soil moisture), or null. */
export async function latestOf(ch: Clickhouse, sensorIds: string[]): Promise<Sample | null> {
  const latest = [...(await latestBySensor(ch, sensorIds)).values()];
  return latest.sort((a, b) => b.at - a.at)[0] ?? null;
}

/** The highest value of these sensors in [from, to], or null without readings. */
export async function maxBetween(ch: Clickhouse, sensorIds: string[], from: number, to: number): Promise<number | null> {
  if (sensorIds.length === 0) return null;
  const [row] = await queryRows<{ v: number | string | null; n: number | string }>(
    ch,
    `SELECT max(value) AS v, count() AS n FROM ${ch.database}.readings
     WHERE sensor_id IN {ids:Array(UUID)} AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts <= fromUnixTimestamp64Milli({to:Int64})`,
    { ids: sensorIds, from, to },
  );
  return row && Number(row.n) > 0 ? num(row.v) : null;
}

/** One sensor's readings in (from, to], oldest first. */
export async function seriesOf(ch: Clickhouse, sensorId: string, from: number, to: number, limit = 10_000): Promise<Sample[]> {
  const rows = await queryRows<{ t: string | number; v: number | string }>(
    ch,
    `SELECT toUnixTimestamp64Milli(ts) AS t, value AS v FROM ${ch.database}.readings
     WHERE sensor_id = {id:UUID} AND ts > fromUnixTimestamp64Milli({from:Int64}) AND ts <= fromUnixTimestamp64Milli({to:Int64})
     ORDER BY ts LIMIT {limit:UInt32}`,
    { id: sensorId, from, to, limit },
  );
  return rows.map((r) => ({ at: Number(r.t), value: Number(r.v) }));
}

/** Hourly means of these sensors since `from` (the 1-hour rollup), oldest first: the battery's trend. */
export async function hourlyMeans(ch: Clickhouse, sensorIds: string[], from: number): Promise<Sample[]> {
  if (sensorIds.length === 0) return [];
  const rows = await queryRows<{ t: string | number; v: number | string }>(
    ch,
    `SELECT toUnixTimestamp(bucket) * 1000 AS t, sum(sum_value) / sum(count) AS v FROM ${ch.database}.readings_1h
     WHERE sensor_id IN {ids:Array(UUID)} AND bucket >= toDateTime(intDiv({from:Int64}, 1000), 'UTC')
     GROUP BY bucket ORDER BY bucket`,
    { ids: sensorIds, from },
  );
  return rows.map((r) => ({ at: Number(r.t), value: Number(r.v) }));
}
