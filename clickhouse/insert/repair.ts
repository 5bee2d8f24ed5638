import { randomUUID } from "node:crypto";
import type { Clickhouse } from "../client";
import { insertBatches, insertReadings, landedReadings, recordedBatches, type InsertFormat } from "./insert";
import { decodeRows } from "./rows";

/**
 * Putting right a range of ingest's write-ahead log that was being inserted when the process died.
 *
 * Sending such a range again with its deduplication token is not enough. A table records a
 * block's deduplication id before it commits the block's part (MergeTreeSink: the log entry, then
 * the rename), so a kill between the two leaves a table that drops the resent block as a
 * duplicate although it never got it: raw readings, a rollup or the latest values, each on its
 * own. So the range is checked rather than trusted:
 *
 *  1. raw readings: each batch's readings are counted (by its sensors, time span and batch hash);
 *     a batch partly there is deleted, and every batch not wholly there is inserted again under a
 *     new token;
 *  2. the minute and hour rollups of every hour the range touches, for its sensors, are deleted
 *     and rebuilt from the raw readings (the hour rollup through its view on the minute one);
 *  3. the latest values of its sensors are written again from the raw readings (the latest row
 *     wins, so writing one twice changes nothing);
 *  4. batches without their record get it.
 *
 * Hours that began before the raw retention cannot be rebuilt from raw readings and are left as
 * they are (a batch that old is refused at ingest, so only a batch spanning that edge has any).
 */

export interface RangeRecord {
  deviceId: string;
  batchHash: bigint;
  rows: number;
  receivedAt: number;
  minTs: number;
  maxTs: number;
  /** RowBinary rows (./rows.ts). */
  payload: Uint8Array;
}

export interface RepairReport {
  batches: number;
  /** Batches whose raw readings were all there / none / some (deleted and inserted again). */
  whole: number;
  missing: number;
  partial: number;
  /** Hours of rollups rebuilt, and hours left alone because they began before the raw retention. */
  hoursRebuilt: number;
  hoursBeyondRetention: number;
}

const HOUR = 3_600_000;

export async function repairRange(ch: Clickhouse, records: readonly RangeRecord[], format: InsertFormat, rawRetentionStart: number): Promise<RepairReport> {
  const report: RepairReport = { batches: records.length, whole: 0, missing: 0, partial: 0, hoursRebuilt: 0, hoursBeyondRetention: 0 };
  if (records.length === 0) return report;
  const sensorsOf = records.map((r) => [...new Set(decodeRows(r.payload).map((row) => row.sensorId))]);

  // 1. Raw readings, batch by batch. A sensor belongs to one device and a batch hash names one of
  // its batches, so (sensor, hash) says which batch a counted reading came from.
  const landed = new Map<string, number>();
  for (const r of await landedReadings(ch, records.map((r, i) => ({ sensorIds: sensorsOf[i]!, minTs: r.minTs, maxTs: r.maxTs, batchHash: r.batchHash })))) {
    landed.set(`${r.sensorId}/${r.batchHash}`, r.readings);
  }
  const again: RangeRecord[] = [];
  const partial: { sensorIds: string[]; record: RangeRecord }[] = [];
  records.forEach((record, i) => {
    const count = sensorsOf[i]!.reduce((n, id) => n + (landed.get(`${id}/${record.batchHash}`) ?? 0), 0);
    if (count === record.rows) return void report.whole++;
    if (count === 0) report.missing++;
    else {
      report.partial++;
      partial.push({ sensorIds: sensorsOf[i]!, record });
    }
    again.push(record);
  });
  for (const { sensorIds, record } of partial) {
    await ch.client.command({
      query: `ALTER TABLE ${ch.database}.readings DELETE
              WHERE sensor_id IN {sensors:Array(UUID)} AND batch = {batch:UInt64}
                AND ts BETWEEN fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND fromUnixTimestamp64Milli({to:Int64}, 'UTC')
              SETTINGS mutations_sync = 2`,
      query_params: { sensors: sensorIds, batch: record.batchHash, from: record.minTs, to: record.maxTs },
    });
  }
  if (again.length > 0) await insertReadings(ch, again.map((r) => r.payload), `repair:${randomUUID()}`, format);

  // 2. Rollups of the hours touched, for the range's sensors, rebuilt from raw readings.
  const sensors = [...new Set(sensorsOf.flat())];
  const firstHour = Math.floor(Math.min(...records.map((r) => r.minTs)) / HOUR) * HOUR;
  const endHour = Math.floor(Math.max(...records.map((r) => r.maxTs)) / HOUR) * HOUR + HOUR;
  const from = Math.max(firstHour, Math.ceil(rawRetentionStart / HOUR) * HOUR);
  report.hoursBeyondRetention = Math.max(0, (Math.min(from, endHour) - firstHour) / HOUR);
  if (from < endHour) {
    report.hoursRebuilt = (endHour - from) / HOUR;
    const span = { sensors, from: Math.floor(from / 1000), to: Math.floor(endHour / 1000) };
    for (const table of ["readings_1m", "readings_1h"]) {
      await ch.client.command({
        query: `ALTER TABLE ${ch.database}.${table} DELETE
                WHERE sensor_id IN {sensors:Array(UUID)} AND bucket >= toDateTime({from:UInt32}, 'UTC') AND bucket < toDateTime({to:UInt32}, 'UTC')
                SETTINGS mutations_sync = 2`,
        query_params: span,
      });
    }
    // Into the minute rollup, whose view feeds the hour rollup: both hold exactly the raw readings again.
    await ch.client.command({
      query: `INSERT INTO ${ch.database}.readings_1m (sensor_id, bucket, min_value, max_value, sum_value, count, last_value)
              SETTINGS insert_deduplication_token = 'repair:${randomUUID()}', deduplicate_blocks_in_dependent_materialized_views = 1
              SELECT sensor_id, toStartOfMinute(ts) AS minute, min(value), max(value), sum(value), count(), argMaxState(value, ts)
              FROM ${ch.database}.readings
              WHERE sensor_id IN {sensors:Array(UUID)} AND ts >= toDateTime({from:UInt32}, 'UTC') AND ts < toDateTime({to:UInt32}, 'UTC')
              GROUP BY sensor_id, minute`,
      query_params: span,
    });
  }

  // 3. The latest values of these sensors, from everything raw readings hold of them.
  await ch.client.command({
    query: `INSERT INTO ${ch.database}.readings_latest (sensor_id, value, raw_value, ts)
            SETTINGS insert_deduplication_token = 'repair:${randomUUID()}'
            SELECT sensor_id, argMax(value, ts), argMax(raw_value, ts), max(ts)
            FROM ${ch.database}.readings WHERE sensor_id IN {sensors:Array(UUID)} GROUP BY sensor_id`,
    query_params: { sensors },
  });

  // 4. The record of each batch, where it is missing.
  const recorded = await recordedBatches(ch, records);
  const unrecorded = records.filter((r) => !recorded.has(`${r.deviceId}/${r.batchHash}`));
  if (unrecorded.length > 0) await insertBatches(ch, unrecorded, `repair:${randomUUID()}`);
  return report;
}
