import { randomUUID } from "node:crypto";
import { closeSync, openSync, unlinkSync, writevSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { queryRows, type Clickhouse } from "../client";
import { INSERT_COLUMNS, ROW_BINARY_STRUCTURE } from "./rows";

/**
 * Writing raw readings: one INSERT of many batches' encoded rows (./rows.ts), and the lookup of
 * which batches the readings table already holds.
 */

/**
 * One INSERT of these payloads, all in the same format. RowBinary goes to chDB through a scratch
 * file that the engine reads with file() (its in-process insert API takes text formats only); the
 * payloads are written to it as they are (one writev, no copy into one buffer), and the file is
 * removed when the INSERT returns. TabSeparated goes to a ClickHouse server as one streamed body.
 *
 * The file is written and removed synchronously: 3 MB into /dev/shm takes about 1.4 ms, while
 * awaiting the same write through the I/O pool took 20–60 ms under load, the time for the busy
 * event loop to come back to it, on the path of every batch in the INSERT.
 */
export async function insertReadings(ch: Clickhouse, payloads: readonly (Uint8Array | string)[]): Promise<void> {
  if (payloads.length === 0) return;
  if (typeof payloads[0] === "string") {
    await ch.client.insert({
      table: `${ch.database}.readings`,
      columns: [...INSERT_COLUMNS],
      format: "TabSeparated",
      values: Readable.from([(payloads as string[]).join("")], { objectMode: false }),
      // Large TSV bodies parse faster on both cores.
      clickhouse_settings: { min_chunk_bytes_for_parallel_parsing: String(512 * 1024) },
    });
    return;
  }
  if (!ch.scratchDir) throw new Error("RowBinary inserts need chDB's scratch directory");
  const file = join(ch.scratchDir, `${randomUUID()}.rowbinary`);
  try {
    writeAll(file, payloads as Uint8Array[]);
    await ch.client.command({
      query: `INSERT INTO ${ch.database}.readings (${INSERT_COLUMNS.join(", ")})
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

/** A batch to look for: its sensors, time span and batch hash. */
export interface BatchProbe {
  sensorIds: readonly string[];
  minTs: number;
  maxTs: number;
  batchHash: bigint;
}

/**
 * How many readings the readings table holds of each (sensor, batch hash) among these batches'
 * sensors and time span. Readings are ordered by (sensor_id, ts): naming the sensors and the span
 * reads only the granules that could hold them, however large the table.
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
function writeAll(file: string, buffers: Uint8Array[]): void {
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
