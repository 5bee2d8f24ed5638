import { randomUUID } from "node:crypto";
import { closeSync, openSync, unlinkSync, writevSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { queryRows, type Clickhouse } from "../client";
import { batchHash, INSERT_COLUMNS, ROW_BINARY_STRUCTURE, rowBinaryToTsv } from "./rows";

/** The batch the demo's readings name (clickhouse/demo-readings.ts): no device sent it. */
export const DEMO_BATCH = batchHash("demo");

/**
 * Writing raw readings: one INSERT of many batches' RowBinary rows (./rows.ts), the record of the
 * batches it carried, and the lookups of what is already stored.
 *
 * Every INSERT here carries an `insert_deduplication_token` (what it is, e.g. a range of ingest's
 * write-ahead log): sent again with the same token after a crash, it is dropped by every table
 * that already took it (raw readings and, block by block, each rollup fed by a view) and taken by
 * any that had not (migration 0007 gives the tables their deduplication window).
 *
 * The token goes in the statement's own SETTINGS clause, never as `clickhouse_settings` on chDB:
 * chDB's connection turns those into session-wide `SET`s that stay for every later statement, so
 * an INSERT without a token of its own (demo readings, a script's) would inherit the last flush's
 * token and be dropped as its duplicate, silently.
 */
const dedupSettings = (token: string) => ({ insert_deduplication_token: token, deduplicate_blocks_in_dependent_materialized_views: 1 }) as const;

/** The same settings as an INSERT's SETTINGS clause (tokens are ours: a log id and a range). */
function dedupClause(token: string): string {
  if (!/^[A-Za-z0-9:._-]+$/.test(token)) throw new Error(`deduplication token ${JSON.stringify(token)} has characters a token of ours never has`);
  return `SETTINGS insert_deduplication_token = '${token}', deduplicate_blocks_in_dependent_materialized_views = 1`;
}

/**
 * How rows travel to ClickHouse: RowBinary through a scratch file for chDB (the engine parses
 * binary rows about twice as fast as text, and its in-process insert API takes text formats only),
 * TabSeparated for a ClickHouse server over HTTP (the client library streams text formats).
 */
export type InsertFormat = "rowbinary" | "tsv";

/**
 * One INSERT of these RowBinary payloads. For chDB they are written to a scratch file as they are
 * (one writev, no copy into one buffer) that the engine reads with file(), removed when the INSERT
 * returns; for TabSeparated they are converted once.
 *
 * The file is written and removed synchronously: 3 MB into /dev/shm takes about 1.4 ms, while
 * awaiting the same write through the I/O pool took 20–60 ms under load.
 */
export async function insertReadings(ch: Clickhouse, payloads: readonly Uint8Array[], token: string, format: InsertFormat): Promise<void> {
  if (payloads.length === 0) return;
  if (format === "tsv") {
    // TabSeparated goes to a ClickHouse server over HTTP, where settings belong to the request.
    await ch.client.insert({
      table: `${ch.database}.readings`,
      columns: [...INSERT_COLUMNS],
      format: "TabSeparated",
      values: Readable.from([payloads.map(rowBinaryToTsv).join("")], { objectMode: false }),
      // Large TSV bodies parse faster on both cores.
      clickhouse_settings: { ...dedupSettings(token), min_chunk_bytes_for_parallel_parsing: String(512 * 1024) },
    });
    return;
  }
  if (!ch.scratchDir) throw new Error("RowBinary inserts need chDB's scratch directory");
  const file = join(ch.scratchDir, `${randomUUID()}.rowbinary`);
  try {
    writeAll(file, payloads);
    await ch.client.command({
      query: `INSERT INTO ${ch.database}.readings (${INSERT_COLUMNS.join(", ")}) ${dedupClause(token)}
              SELECT * FROM file({file:String}, 'RowBinary', '${ROW_BINARY_STRUCTURE}')`,
      query_params: { file },
    });
  } finally {
    try {
      unlinkSync(file);
    } catch {
      // Already gone: nothing to clean up.
    }
  }
}

export interface BatchRecord {
  deviceId: string;
  batchHash: bigint;
  rows: number;
  receivedAt: number;
}

/** Records the batches an INSERT of readings carried (with its own token, for the same reason). */
export async function insertBatches(ch: Clickhouse, batches: readonly BatchRecord[], token: string): Promise<void> {
  if (batches.length === 0) return;
  // Inline rows after the statement (both engines take them so), with the statement's own settings.
  const rows = batches.map((b) => JSON.stringify({ device_id: b.deviceId, batch: b.batchHash.toString(), rows: b.rows, received_at: b.receivedAt })).join("\n");
  await ch.client.command({
    query: `INSERT INTO ${ch.database}.batches (device_id, batch, rows, received_at) ${dedupClause(token)}, date_time_input_format = 'best_effort' FORMAT JSONEachRow\n${rows}`,
  });
}

/**
 * Whether ClickHouse holds any device's batch: one recorded, or readings of one stored before
 * batches were recorded (every reading but the demo's names its batch). Stops at the first found.
 */
export async function anyDeviceBatchStored(ch: Clickhouse): Promise<boolean> {
  const [row] = await queryRows<{ recorded: number | string; landed: number | string }>(
    ch,
    `SELECT (SELECT count() FROM (SELECT 1 FROM ${ch.database}.batches LIMIT 1)) AS recorded,
            (SELECT count() FROM (SELECT 1 FROM ${ch.database}.readings WHERE batch NOT IN (0, {demo:UInt64}) LIMIT 1)) AS landed`,
    { demo: DEMO_BATCH },
  );
  return Number(row?.recorded ?? 0) > 0 || Number(row?.landed ?? 0) > 0;
}

/** The most recent batches recorded, oldest first: what fills ingest's window on start. */
export async function recentBatches(ch: Clickhouse, limit: number): Promise<{ deviceId: string; batchHash: bigint; rows: number; receivedAt: number }[]> {
  const rows = await queryRows<{ device_id: string; batch: string; rows: number; t: number }>(
    ch,
    `SELECT device_id, toString(batch) AS batch, rows, toUnixTimestamp64Milli(received_at) AS t
     FROM ${ch.database}.batches ORDER BY received_at DESC LIMIT {limit:UInt64}`,
    { limit },
  );
  return rows.map((r) => ({ deviceId: r.device_id, batchHash: BigInt(r.batch), rows: Number(r.rows), receivedAt: Number(r.t) })).reverse();
}

/** Which of these (device, batch hash) pairs are recorded, with their readings. */
export async function recordedBatches(ch: Clickhouse, keys: readonly { deviceId: string; batchHash: bigint }[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (keys.length === 0) return found;
  const rows = await queryRows<{ device_id: string; batch: string; rows: number }>(
    ch,
    `SELECT device_id, toString(batch) AS batch, max(rows) AS rows FROM ${ch.database}.batches
     WHERE device_id IN {devices:Array(UUID)} AND batch IN {batches:Array(UInt64)}
     GROUP BY device_id, batch`,
    { devices: [...new Set(keys.map((k) => k.deviceId))], batches: [...new Set(keys.map((k) => k.batchHash))] },
  );
  for (const r of rows) found.set(`${r.device_id}/${r.batch}`, Number(r.rows));
  return found;
}

/** A batch to look for in the readings themselves: its sensors, time span and batch hash. */
export interface BatchProbe {
  sensorIds: readonly string[];
  minTs: number;
  maxTs: number;
  batchHash: bigint;
}

/**
 * How many readings the readings table holds of each (sensor, batch hash) among these batches'
 * sensors and time span: for batches stored before the batches table existed. Readings are
 * ordered by (sensor_id, ts): naming the sensors and the span reads only the granules that could
 * hold them, however large the table.
 */
export async function landedReadings(ch: Clickhouse, probes: readonly BatchProbe[]): Promise<{ sensorId: string; batchHash: string; readings: number }[]> {
  const sensorIds = new Set<string>();
  let from = Infinity;
  let to = -Infinity;
  for (const p of probes) {
    for (const id of p.sensorIds) sensorIds.add(id);
    if (p.minTs < from) from = p.minTs;
    if (p.maxTs > to) to = p.maxTs;
  }
  const rows = await queryRows<{ sensor_id: string; batch: string; readings: string | number }>(
    ch,
    `SELECT sensor_id, toString(batch) AS batch, count() AS readings FROM ${ch.database}.readings
     WHERE sensor_id IN {sensors:Array(UUID)}
       AND ts BETWEEN fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       AND batch IN {batches:Array(UInt64)}
     GROUP BY sensor_id, batch`,
    { sensors: [...sensorIds], from, to, batches: [...new Set(probes.map((p) => p.batchHash))] },
  );
  return rows.map((r) => ({ sensorId: r.sensor_id, batchHash: r.batch, readings: Number(r.readings) }));
}

/** Writes the buffers to a new file, in order, however many there are (writev takes at most IOV_MAX at once). */
function writeAll(file: string, buffers: readonly Uint8Array[]): void {
  const fd = openSync(file, "w");
  try {
    for (let i = 0; i < buffers.length; i += 512) {
      const chunk = buffers.slice(i, i + 512);
      const expected = chunk.reduce((n, b) => n + b.byteLength, 0);
      const written = writevSync(fd, chunk);
      if (written !== expected) throw new Error(`scratch file: wrote ${written} of ${expected} bytes`);
    }
  } finally {
    closeSync(fd);
  }
}
