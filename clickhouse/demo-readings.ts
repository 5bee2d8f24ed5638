import { queryRows, type Clickhouse } from "./client";
import { DEMO_BATCH } from "./insert";
import { forgetReadings } from "./mirror";

/**
 * Two days of plausible readings at a 5-minute cadence for the demo sensors, generated inside
 * ClickHouse: soil drying between waterings, a daily temperature, humidity and light cycle, a
 * slowly draining battery. Skipped when the sensors already have readings.
 */
export async function seedDemoReadings(ch: Clickhouse, sensors: { id: string; metric: string }[], now: Date): Promise<number> {
  if (sensors.length === 0) return 0;
  const [existing] = await queryRows<{ n: string }>(ch, `SELECT count() AS n FROM ${ch.database}.readings WHERE sensor_id IN {ids:Array(UUID)}`, {
    ids: sensors.map((s) => s.id),
  });
  if (Number(existing?.n ?? 0) > 0) return 0;
  const points = 2 * 24 * 12;
  const end = Math.floor(now.getTime() / 300_000) * 300_000;
  for (const [i, sensor] of sensors.entries()) {
    await ch.client.command({
      query: `INSERT INTO ${ch.database}.readings (sensor_id, ts, value, raw_value, batch)
        SELECT {sensor:UUID}, t, v, v, {demo:UInt64}
        FROM (
          SELECT fromUnixTimestamp64Milli(toInt64({end:Int64} - (number * 300000)), 'UTC') AS t,
                 toHour(t, 'Europe/Berlin') + toMinute(t) / 60 AS h,
                 round(multiIf(
                   {metric:String} = 'soil_moisture', 62 - ((number + {phase:UInt32}) % 288) * 0.1 + sin(number) * 0.4,
                   {metric:String} = 'temperature', 19 + 5 * sin(2 * pi() * (h - 9) / 24),
                   {metric:String} = 'humidity', 58 - 12 * sin(2 * pi() * (h - 9) / 24),
                   {metric:String} = 'light', greatest(0, 18000 * sin(pi() * (h - 6) / 14)) * (h BETWEEN 6 AND 20),
                   {metric:String} = 'battery', 91 + number * 0.004,
                   0), 2) AS v
          FROM numbers({points:UInt32})
        )`,
      query_params: { sensor: sensor.id, metric: sensor.metric, end, points, phase: i * 97, demo: DEMO_BATCH },
    });
  }
  // Written behind ingest's back: the copies in memory load them from the engine.
  forgetReadings(ch);
  return points * sensors.length;
}
