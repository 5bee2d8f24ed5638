import { queryRows, type Clickhouse } from "./client";

/**
 * The plant status's one question to the readings: since when has each sensor been out of its
 * range? A rule's state machine with hysteresis, replayed on the stored readings: an excursion
 * below `low` begins with the first reading under `low` after the last reading above `lowClear`
 * (low + the band), and lasts until a reading comes back above `lowClear`; likewise above `high`.
 * So a value back inside the range but not yet past the band keeps its problem, exactly as the
 * rule keeps firing, and a value past the band clears it.
 */

export interface ExcursionBounds {
  sensorId: string;
  /** null: not looked at on that side. */
  low: { bound: number; clear: number } | null;
  high: { bound: number; clear: number } | null;
}

export interface Excursion {
  /** Epoch ms of the first reading of the current excursion below / above; null when there is none. */
  lowSince: number | null;
  highSince: number | null;
}


/** Each sensor's current excursions, from readings since `from` (epoch ms): older ones are not looked at. */
export async function queryExcursions(ch: Clickhouse, bounds: ExcursionBounds[], from: number): Promise<Map<string, Excursion>> {
  if (bounds.length === 0) return new Map();
  const rows = await queryRows<{ sensor_id: string; low_since: number | string; low_n: number | string; high_since: number | string; high_n: number | string }>(
    ch,
    `SELECT r.sensor_id AS sensor_id,
       toUnixTimestamp64Milli(minIf(r.ts, b.low_on AND r.value < b.low AND r.ts > b.low_back)) AS low_since,
       countIf(b.low_on AND r.value < b.low AND r.ts > b.low_back) AS low_n,
       toUnixTimestamp64Milli(minIf(r.ts, b.high_on AND r.value > b.high AND r.ts > b.high_back)) AS high_since,
       countIf(b.high_on AND r.value > b.high AND r.ts > b.high_back) AS high_n
FROM ${ch.database}.readings AS r
INNER JOIN (
  SELECT sensor_id, any(low_on) AS low_on, any(low) AS low, any(high_on) AS high_on, any(high) AS high,
         -- No reading past the band yet: the epoch, before every reading.
         maxIf(ts, value > low_clear) AS low_back,
         maxIf(ts, value < high_clear) AS high_back
  FROM (SELECT sensor_id, ts, value, indexOf({ids:Array(UUID)}, sensor_id) AS i,
               {low_on:Array(UInt8)}[i] AS low_on, {low:Array(Float64)}[i] AS low, {low_clear:Array(Float64)}[i] AS low_clear,
               {high_on:Array(UInt8)}[i] AS high_on, {high:Array(Float64)}[i] AS high, {high_clear:Array(Float64)}[i] AS high_clear
        FROM ${ch.database}.readings
        WHERE sensor_id IN {ids:Array(UUID)} AND ts >= fromUnixTimestamp64Milli({from:Int64}))
  GROUP BY sensor_id
) AS b ON r.sensor_id = b.sensor_id
WHERE r.sensor_id IN {ids:Array(UUID)} AND r.ts >= fromUnixTimestamp64Milli({from:Int64})
GROUP BY r.sensor_id`,
    {
      ids: bounds.map((b) => b.sensorId),
      low_on: bounds.map((b) => (b.low ? 1 : 0)),
      low: bounds.map((b) => b.low?.bound ?? 0),
      low_clear: bounds.map((b) => b.low?.clear ?? 0),
      high_on: bounds.map((b) => (b.high ? 1 : 0)),
      high: bounds.map((b) => b.high?.bound ?? 0),
      high_clear: bounds.map((b) => b.high?.clear ?? 0),
      from,
    },
  );
  return new Map(
    rows.map((r) => [
      r.sensor_id,
      { lowSince: Number(r.low_n) > 0 ? Number(r.low_since) : null, highSince: Number(r.high_n) > 0 ? Number(r.high_since) : null },
    ]),
  );
}
