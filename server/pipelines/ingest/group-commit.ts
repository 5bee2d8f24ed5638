import type { Clickhouse } from "../../../clickhouse/client";
import { insertReadings, landedReadings, type InsertFormat } from "../../../clickhouse/insert";
import { AppError, type Logger } from "../../platform";

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

/** The queue of accepted-but-uncommitted readings is full: come back in a second. */
export class IngestSaturatedError extends AppError {
  constructor(message: string) {
    super("TOO_MANY_REQUESTS", message, { retryAfterSeconds: 1 });
  }
}

/** ClickHouse refused or could not be reached: come back in a few seconds. */
export class IngestUnavailableError extends AppError {
  constructor(message: string) {
    super("SERVICE_UNAVAILABLE", message, { retryAfterSeconds: 5 });
  }
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
        await insertReadings(ch, fresh.map((p) => p.payload));
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
   * Which of these batches ClickHouse already holds (from before a restart, or another server).
   * Readings are ordered by (sensor_id, ts): naming the batches' sensors and time span reads only
   * the granules that could hold them, however large the table.
   */
  async #alreadyLanded(ch: Clickhouse, batch: Pending[]): Promise<Map<string, number>> {
    const deviceOfSensor = new Map<string, string>();
    for (const p of batch) for (const id of p.sensorIds) deviceOfSensor.set(id, p.deviceId);
    const rows = await landedReadings(ch, batch);
    // Sensors belong to one device, so (sensor, batch hash) names the device's batch.
    const keyOfHash = new Map(batch.map((p) => [`${p.deviceId}/${p.batchHash}`, p.key]));
    const landed = new Map<string, number>();
    for (const r of rows) {
      const key = keyOfHash.get(`${deviceOfSensor.get(r.sensorId)!}/${r.batchHash}`);
      if (key !== undefined) landed.set(key, (landed.get(key) ?? 0) + r.readings);
    }
    return landed;
  }

  #remember(key: string, rows: number): void {
    this.#committed.set(key, rows);
    const limit = this.options.rememberBatches ?? 200_000;
    while (this.#committed.size > limit) this.#committed.delete(this.#committed.keys().next().value!);
  }
}

function keyOf(deviceId: string, batchId: string): string {
  return `${deviceId}/${batchId}`;
}
