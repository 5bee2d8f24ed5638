import { afterAll, beforeAll, expect, test } from "bun:test";
import { queryRows } from "../clickhouse/client";
import { batchHash, encodeBatch, insertBatches, insertReadings, repairRange, ROW_BYTES, type RangeRecord } from "../clickhouse/insert";
import { migrateClickhouse } from "../clickhouse/migrate";
import { openTestClickhouse, type TestClickhouse } from "./support/stores";

/**
 * The range of the write-ahead log that was being inserted when the process died, put right on
 * the real engine. A kill between a table's deduplication record and its part leaves that table
 * without the block while a resend with the same token would be dropped: here the tables are put
 * in such states by hand (raw readings with one batch whole, one half there, one missing; the
 * hour rollup without the range; a minute of the minute rollup gone; one batch record), and the
 * repair must leave raw readings, both rollups, the latest values and the batch records exactly
 * as one clean INSERT would have.
 */

let t: TestClickhouse;
beforeAll(async () => {
  t = openTestClickhouse();
  await migrateClickhouse(t.clickhouse);
});
afterAll(() => t.cleanup());

const HOUR = 3_600_000;

test("a range cut off by a crash is checked, not trusted: raw readings, rollups, latest values and batch records end exact", async () => {
  const ch = t.clickhouse;
  const deviceId = crypto.randomUUID();
  const sensors = new Map(["soil", "temp"].map((key) => [key, { id: crypto.randomUUID(), metric: "temperature", calibration: null }]));
  const start = Math.floor((Date.now() - 5 * HOUR) / HOUR) * HOUR;
  // Three batches spread over three hours, 120 readings each (60 per sensor, a minute apart).
  const records: RangeRecord[] = [0, 1, 2].map((b) => {
    const readings = Array.from({ length: 120 }, (_, i) => ({ sensor: i % 2 ? "temp" : "soil", ts: start + b * HOUR + Math.floor(i / 2) * 60_000 + (i % 2), value: b * 100 + i }));
    const hash = batchHash(`batch-${b}`);
    const encoded = encodeBatch(sensors, readings, hash);
    return { deviceId, batchHash: hash, rows: readings.length, receivedAt: Date.now(), minTs: encoded.minTs, maxTs: encoded.maxTs, payload: encoded.payload };
  });
  const [whole, partial] = records;
  const expected = { rows: 360, sum: records.reduce((s, r, b) => s + Array.from({ length: r.rows }, (_, i) => b * 100 + i).reduce((a, v) => a + v, 0), 0) };

  // What a kill mid-INSERT can leave: one batch whole, half of another, none of the third …
  await insertReadings(ch, [whole!.payload, partial!.payload.subarray(0, 60 * ROW_BYTES)], "crashed-range", "rowbinary");
  // … the hour rollup never got the block, a minute of the minute rollup is gone, one batch record.
  await ch.client.command({ query: `ALTER TABLE ${ch.database}.readings_1h DELETE WHERE 1 SETTINGS mutations_sync = 2` });
  await ch.client.command({
    query: `ALTER TABLE ${ch.database}.readings_1m DELETE WHERE bucket = toDateTime({t:UInt32}, 'UTC') SETTINGS mutations_sync = 2`,
    query_params: { t: Math.floor(start / 1000) },
  });
  await insertBatches(ch, [whole!], "crashed-range:batches");

  const report = await repairRange(ch, records, "rowbinary", Date.now() - 90 * 86_400_000);
  expect(report).toMatchObject({ batches: 3, whole: 1, partial: 1, missing: 1, hoursRebuilt: 3, hoursBeyondRetention: 0 });

  const totals = async () => {
    const [row] = await queryRows<Record<string, number | string>>(
      ch,
      `SELECT (SELECT count() FROM ${ch.database}.readings) AS raw, (SELECT sum(value) FROM ${ch.database}.readings) AS raw_sum,
              (SELECT uniqExact(sensor_id, ts) FROM ${ch.database}.readings) AS distinct_readings,
              (SELECT sum(count) FROM ${ch.database}.readings_1m) AS minute, (SELECT sum(sum_value) FROM ${ch.database}.readings_1m) AS minute_sum,
              (SELECT sum(count) FROM ${ch.database}.readings_1h) AS hour, (SELECT sum(sum_value) FROM ${ch.database}.readings_1h) AS hour_sum,
              (SELECT sum(rows) FROM ${ch.database}.batches) AS recorded`,
    );
    return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
  };
  const exact = { raw: 360, raw_sum: expected.sum, distinct_readings: 360, minute: 360, minute_sum: expected.sum, hour: 360, hour_sum: expected.sum, recorded: 360 };
  expect(await totals()).toEqual(exact);
  // The newest reading of each sensor is its latest value.
  const latest = await queryRows<{ sensor_id: string; ts: number; value: number }>(
    ch,
    `SELECT sensor_id, toUnixTimestamp64Milli(ts) AS ts, value FROM ${ch.database}.readings_latest FINAL `,
  );
  const newest = [...sensors.values()].map((s) => {
    const rows = records.flatMap((r, b) => Array.from({ length: r.rows }, (_, i) => ({ id: i % 2 ? sensors.get("temp")!.id : sensors.get("soil")!.id, ts: start + b * HOUR + Math.floor(i / 2) * 60_000 + (i % 2), value: b * 100 + i })));
    const last = rows.filter((r) => r.id === s.id).sort((a, b) => b.ts - a.ts)[0]!;
    return { sensor_id: s.id, ts: last.ts, value: last.value };
  });
  const bySensor = (a: { sensor_id: string }, b: { sensor_id: string }) => a.sensor_id.localeCompare(b.sensor_id);
  expect(latest.map((l) => ({ sensor_id: l.sensor_id, ts: Number(l.ts), value: Number(l.value) })).sort(bySensor)).toEqual(newest.sort(bySensor));

  // Put right twice (a crash during the repair itself): still exact.
  expect(await repairRange(ch, records, "rowbinary", Date.now() - 90 * 86_400_000)).toMatchObject({ whole: 3, partial: 0, missing: 0 });
  expect(await totals()).toEqual(exact);
}, 120_000);
