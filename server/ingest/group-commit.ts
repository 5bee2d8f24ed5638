import { randomUUID } from "node:crypto";
import { closeSync, openSync, unlinkSync, writevSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { queryRows, type Clickhouse } from "../../clickhouse/client";
import type { Logger } from "../logger";
import type { InsertFormat } from "./encode";

/**
 * Group commit: device batches that arrive while an INSERT runs wait together and go into
 * ClickHouse as one large INSERT (per-request inserts cost milliseconds each and make too many
 * parts). A batch is acknowledged only after the INSERT that carried it returned.
 *
 * Exactly-once per (device, batchId): a batch already committed (remembered here, or found in
 * ClickHouse after a restart or on another server) is answered as duplicates and not inserted;
 * a retry arriving while the first attempt is still queued or in flight waits for that attempt
 * instead of queuing a second copy.
 *
 * A batch its device declares as a first attempt (`attempt: 1`) cannot have landed before, and
 * goes straight in. Every other batch (a retry, or a device that does not say) is looked up in
 * the readings table itself, the record of what landed: a crash can stop an INSERT between the
 * raw part and its materialized views, so a derived table could lie.
 */

/** The columns of a raw reading, in the order encode.ts writes them. */
export const INSERT_COLUMNS = ["sensor_id", "ts", "value", "raw_value", "batch"];
/** INSERT_COLUMNS as a RowBinary structure. */
const ROW_BINARY_STRUCTURE = "sensor_id UUID, ts DateTime64(3), value Float64, raw_value Float64, batch UInt64";

export interface CommitRequest {
  deviceId: string;
  batchId: string;
  /** batchHash(batchId): what the readings table stores as `batch`. */
  batchHash: bigint;
  /** The device says this is the batch's first attempt: it cannot be stored already. */
  firstAttempt: boolean;
  /** The batch's sensors and time span: they make the duplicate check a primary-key lookup. */
  sensorIds: string[];
  minTs: number;
  maxTs: number;
  /** The batch's rows, already encoded in `insertFormat` (INSERT_COLUMNS order). */
  payload: Uint8Array | string;
  rows: number;
}

export interface CommitResult {
  accepted: number;
  duplicates: number;
}

export class IngestSaturatedError extends Error {
  override name = "IngestSaturatedError";
  readonly retryAfterSeconds = 1;
}

export class IngestUnavailableError extends Error {
  override name = "IngestUnavailableError";
  readonly retryAfterSeconds = 5;
}

interface Pending extends CommitRequest {
  key: string;
  resolve: (r: CommitResult) => void;
  reject: (e: Error) => void;
}

export interface GroupCommitOptions {
  flushRows: number;
  flushMs: number;
  maxQueueRows: number;
  /** INSERTs in progress at once (default 1: with chDB a second one measured slower, not faster). */
  concurrentFlushes?: number;
  /** How many committed batch keys to remember in memory (beyond that, the readings table answers). */
  rememberBatches?: number;
  /** Defaults to RowBinary for chDB, TabSeparated for a ClickHouse server (see encode.ts). */
  insertFormat?: InsertFormat;
}

export interface GroupCommitStats {
  flushes: number;
  rowsCommitted: number;
  batchesCommitted: number;
  duplicateBatches: number;
  lastFlushMs: number;
  lastFlushRows: number;
  /** Time spent in the INSERT itself, and in duplicate checks of retried batches, summed over all flushes. */
  insertMs: number;
  dedupCheckMs: number;
  lastError: string | undefined;
}

export class GroupCommit {
  #queue: Pending[] = [];
  #queuedRows = 0;
  #inFlight = new Map<string, Promise<CommitResult>>();
  #committed = new Map<string, number>();
  #flushes = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly stats: GroupCommitStats = {
    flushes: 0,
    rowsCommitted: 0,
    batchesCommitted: 0,
    duplicateBatches: 0,
    lastFlushMs: 0,
    lastFlushRows: 0,
    insertMs: 0,
    dedupCheckMs: 0,
    lastError: undefined,
  };

  constructor(
    private readonly clickhouse: () => Clickhouse,
    private readonly options: GroupCommitOptions,
    private readonly log: Logger,
  ) {}

  /** The format batches must be encoded in before `submit`. */
  get insertFormat(): InsertFormat {
    return this.options.insertFormat ?? (this.clickhouse().kind === "chdb" ? "rowbinary" : "tsv");
  }

  get queuedRows(): number {
    return this.#queuedRows;
  }

  /** True when the last INSERT failed: readiness reports it until one succeeds. */
  get degraded(): string | undefined {
    return this.stats.lastError;
  }

  /** A batch this process already committed, answered without touching ClickHouse. */
  committedRows(deviceId: string, batchId: string): number | undefined {
    return this.#committed.get(keyOf(deviceId, batchId));
  }

  submit(request: CommitRequest): Promise<CommitResult> {
    const key = keyOf(request.deviceId, request.batchId);
    const committed = this.#committed.get(key);
    if (committed !== undefined) return Promise.resolve({ accepted: 0, duplicates: committed });
    const running = this.#inFlight.get(key);
    // The same batch is already on its way: its outcome is ours, as duplicates.
    if (running) return running.then((r) => ({ accepted: 0, duplicates: r.accepted + r.duplicates }));
    if (this.#queuedRows + request.rows > this.options.maxQueueRows && this.#queuedRows > 0) {
      return Promise.reject(new IngestSaturatedError(`ingest queue is full (${this.#queuedRows} readings waiting)`));
    }
    const promise = new Promise<CommitResult>((resolve, reject) => {
      this.#queue.push({ ...request, key, resolve, reject });
    });
    this.#inFlight.set(key, promise);
    const forget = () => this.#inFlight.delete(key);
    promise.then(forget, forget);
    this.#queuedRows += request.rows;
    this.#schedule();
    return promise;
  }

  /** Commits everything queued (shutdown): resolves when the queue is empty. */
  async drain(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushes.size > 0 || this.#queue.length > 0) {
      if (this.#queue.length > 0 && this.#flushes.size < this.#maxFlushes) this.#startFlush();
      else await Promise.race(this.#flushes);
    }
  }

  get #maxFlushes(): number {
    return this.options.concurrentFlushes ?? 1;
  }

  #schedule(): void {
    const running = this.#flushes.size;
    if (running >= this.#maxFlushes) return; // a running flush picks the queue up when it ends
    if (running === 0) {
      if (this.#queuedRows >= this.options.flushRows) this.#startFlush();
      else
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          if (this.#flushes.size < this.#maxFlushes && this.#queue.length > 0) this.#startFlush();
        }, this.options.flushMs);
    } else if (this.#queuedRows >= this.options.flushRows / 4) {
      // Enough waits to be worth a second INSERT alongside the running one.
      this.#startFlush();
    }
  }

  /**
   * Up to `concurrentFlushes` INSERTs run at once: while one is in the engine, the next one's
   * duplicate check and marker write proceed. A batch is in one flush only (see #inFlight).
   */
  #startFlush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const flush: Promise<void> = this.#flush().finally(() => {
      this.#flushes.delete(flush);
      // Whatever arrived during the INSERT has waited long enough: go again at once.
      if (this.#queue.length > 0 && this.#flushes.size < this.#maxFlushes) this.#startFlush();
    });
    this.#flushes.add(flush);
  }

  async #flush(): Promise<void> {
    const batch: Pending[] = [];
    let rows = 0;
    while (this.#queue.length > 0 && (batch.length === 0 || rows + this.#queue[0]!.rows <= this.options.flushRows)) {
      const next = this.#queue.shift()!;
      batch.push(next);
      rows += next.rows;
    }
    this.#queuedRows -= rows;
    if (batch.length === 0) return;
    const started = performance.now();
    try {
      const ch = this.clickhouse();
      const checkStarted = performance.now();
      const mayHaveLanded = batch.filter((p) => !p.firstAttempt);
      const landed = mayHaveLanded.length > 0 ? await this.#alreadyLanded(ch, mayHaveLanded) : new Map<string, number>();
      const fresh = batch.filter((p) => !landed.has(p.key));
      this.stats.dedupCheckMs += performance.now() - checkStarted;
      const freshRows = fresh.reduce((n, p) => n + p.rows, 0);
      if (fresh.length > 0) {
        const insertStarted = performance.now();
        await this.#insert(ch, fresh);
        this.stats.insertMs += performance.now() - insertStarted;
      }
      this.stats.flushes += 1;
      this.stats.rowsCommitted += freshRows;
      this.stats.batchesCommitted += fresh.length;
      this.stats.duplicateBatches += batch.length - fresh.length;
      this.stats.lastFlushRows = freshRows;
      this.stats.lastFlushMs = performance.now() - started;
      this.stats.lastError = undefined;
      for (const p of batch) {
        const duplicate = landed.has(p.key);
        this.#remember(p.key, duplicate ? landed.get(p.key)! : p.rows);
        p.resolve(duplicate ? { accepted: 0, duplicates: p.rows } : { accepted: p.rows, duplicates: 0 });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.stats.lastError = message;
      this.log.error({ err: message, batches: batch.length, rows }, "ingest insert failed; batches refused for retry");
      for (const p of batch) p.reject(new IngestUnavailableError(`readings store unavailable: ${message}`));
    }
  }

  /**
   * One INSERT for all fresh batches. RowBinary goes to chDB through a scratch file that the
   * engine reads with file() (its in-process insert API takes text formats only); the batches'
   * bytes are written to it as they are (one writev, no copy into one buffer), and the file is
   * removed when the INSERT returns.
   *
   * The file is written and removed synchronously: 3 MB into /dev/shm takes about 1.4 ms, while
   * awaiting the same write through the I/O pool took 20–60 ms under load, the time for the busy
   * event loop to come back to it, on the path of every batch in the flush.
   */
  async #insert(ch: Clickhouse, batches: Pending[]): Promise<void> {
    if (typeof batches[0]!.payload === "string") {
      await ch.client.insert({
        table: `${ch.database}.readings`,
        columns: INSERT_COLUMNS as [string, ...string[]],
        format: "TabSeparated",
        values: Readable.from([batches.map((p) => p.payload as string).join("")], { objectMode: false }),
        // Large TSV bodies parse faster on both cores.
        clickhouse_settings: { min_chunk_bytes_for_parallel_parsing: String(512 * 1024) },
      });
      return;
    }
    if (!ch.scratchDir) throw new Error("RowBinary inserts need chDB's scratch directory");
    const file = join(ch.scratchDir, `${randomUUID()}.rowbinary`);
    try {
      writeAll(file, batches.map((p) => p.payload as Uint8Array));
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

  /**
   * Which of these batches ClickHouse already holds (from before a restart, or another server).
   * Readings are ordered by (sensor_id, ts): naming the batches' sensors and time span reads only
   * the granules that could hold them, however large the table.
   */
  async #alreadyLanded(ch: Clickhouse, batch: Pending[]): Promise<Map<string, number>> {
    const sensorIds = new Set<string>();
    let from = Infinity;
    let to = -Infinity;
    for (const p of batch) {
      for (const id of p.sensorIds) sensorIds.add(id);
      if (p.minTs < from) from = p.minTs;
      if (p.maxTs > to) to = p.maxTs;
    }
    const deviceOfSensor = new Map<string, string>();
    for (const p of batch) for (const id of p.sensorIds) deviceOfSensor.set(id, p.deviceId);
    const rows = await queryRows<{ sensor_id: string; batch: string; readings: string | number }>(
      ch,
      `SELECT sensor_id, toString(batch) AS batch, count() AS readings FROM ${ch.database}.readings
       WHERE sensor_id IN {sensors:Array(UUID)}
         AND ts BETWEEN fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND fromUnixTimestamp64Milli({to:Int64}, 'UTC')
         AND batch IN {batches:Array(UInt64)}
       GROUP BY sensor_id, batch`,
      { sensors: [...sensorIds], from, to, batches: [...new Set(batch.map((p) => p.batchHash))] },
    );
    // Sensors belong to one device, so (sensor, batch hash) names the device's batch.
    const keyOfHash = new Map(batch.map((p) => [`${p.deviceId}/${p.batchHash}`, p.key]));
    const landed = new Map<string, number>();
    for (const r of rows) {
      const key = keyOfHash.get(`${deviceOfSensor.get(r.sensor_id)!}/${r.batch}`);
      if (key !== undefined) landed.set(key, (landed.get(key) ?? 0) + Number(r.readings));
    }
    return landed;
  }

  #remember(key: string, rows: number): void {
    this.#committed.set(key, rows);
    const limit = this.options.rememberBatches ?? 200_000;
    while (this.#committed.size > limit) this.#committed.delete(this.#committed.keys().next().value!);
  }
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

function keyOf(deviceId: string, batchId: string): string {
  return `${deviceId}/${batchId}`;
}
