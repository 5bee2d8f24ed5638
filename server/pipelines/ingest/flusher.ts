import type { Clickhouse } from "../../../clickhouse/client";
import { decodeRows, insertBatches, insertReadings, latestOfRows, repairRange, type DecodedRow, type InsertFormat } from "../../../clickhouse/insert";
import { forgetReadings, readingsRewritten, readingsWriteBegins, readingsWritten, type WrittenBatch } from "../../../clickhouse/mirror";
import { messageOf, type Logger } from "../../platform";
import type { WalRecord, WriteAheadLog } from "./wal";

/**
 * Copies acknowledged batches from the write-ahead log into ClickHouse, off the acknowledgement
 * path, in large INSERTs: the fixed price of an INSERT (a part in every table of the chain) is paid
 * per flush, not per batch or per device request.
 *
 * A flush takes the log's next contiguous range of records (from the last one flushed on), at most
 * `flushRows` rows, once that many wait or the oldest has waited `flushMs`; while an INSERT runs,
 * new records wait for the next one. Exactly once: before the INSERT the range is saved in the
 * log's checkpoint as in flight, and the INSERT carries a deduplication token naming the log and
 * the range. A failed INSERT is retried, the same range again with the same token, with backoff:
 * ClickHouse drops whatever part of it (raw rows, a rollup's block, the batch records) had already
 * landed; meanwhile records keep queueing, up to `maxQueueRows` (then ingest answers 429). The
 * range in flight when the previous process died is not trusted to that: a kill can leave a
 * table that remembers a block it never committed, so that range is checked and put right
 * (clickhouse/insert/repair.ts) before anything else is sent.
 */

export interface FlusherOptions {
  flushRows: number;
  flushMs: number;
  maxQueueRows: number;
  /** Unset: RowBinary for chDB, TabSeparated for a ClickHouse server. */
  insertFormat?: InsertFormat | undefined;
  /** Raw readings are kept this many days: rollup hours older than that cannot be rebuilt from them. */
  rawRetentionDays: number;
}

/** Told of each range once it is in ClickHouse, in log order. */
export type OnFlushed = (records: readonly WalRecord[]) => void;

export interface FlusherStats {
  flushes: number;
  rowsFlushed: number;
  batchesFlushed: number;
  lastFlushRows: number;
  lastFlushMs: number;
  /** Time spent in INSERTs, summed. */
  insertMs: number;
  lastError: string | undefined;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

export class Flusher {
  /** Durable records not yet in ClickHouse, by seq. */
  #queue: WalRecord[] = [];
  #queuedRows = 0;
  #flushing: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryMs = RETRY_MIN_MS;
  #waiters: { upTo: number; resolve: () => void }[] = [];
  #stopped = false;
  /** The checkpoint named a range in flight when this process started: a crash interrupted it. */
  #interrupted: { from: number; to: number } | null;
  readonly stats: FlusherStats = { flushes: 0, rowsFlushed: 0, batchesFlushed: 0, lastFlushRows: 0, lastFlushMs: 0, insertMs: 0, lastError: undefined };

  constructor(
    private readonly clickhouse: () => Clickhouse,
    private readonly wal: WriteAheadLog,
    private readonly options: FlusherOptions,
    private readonly log: Logger,
    private readonly onFlushed: OnFlushed = () => {},
  ) {
    this.#interrupted = wal.checkpoint.inFlight;
  }

  /** Rows on their way to the log, counted against the queue before they are appended. */
  #reservedRows = 0;

  /** Rows acknowledged (or about to be) and not yet in ClickHouse. */
  get queuedRows(): number {
    return this.#queuedRows + this.#reservedRows;
  }

  /** The last INSERT failed (and is being retried): readiness says why. */
  get degraded(): string | undefined {
    return this.stats.lastError;
  }

  /**
   * Reserves room for `rows` about to be appended to the log (backpressure beyond `maxQueueRows`;
   * an empty queue always takes a batch); false when there is none. `add` or `release` ends it.
   */
  reserve(rows: number): boolean {
    const queued = this.queuedRows;
    if (queued > 0 && queued + rows > this.options.maxQueueRows) return false;
    this.#reservedRows += rows;
    return true;
  }

  /** Gives back a reservation whose batch did not reach the log. */
  release(rows: number): void {
    this.#reservedRows -= rows;
  }

  /** A durable record to copy, in place of its reservation (records may come slightly out of order; flushes take contiguous ranges). */
  add(record: WalRecord, reserved = true): void {
    if (reserved) this.#reservedRows -= record.rows;
    let at = this.#queue.length;
    while (at > 0 && this.#queue[at - 1]!.seq > record.seq) at--;
    this.#queue.splice(at, 0, record);
    this.#queuedRows += record.rows;
    this.#schedule();
  }

  /** Resolves once everything added before the call is in ClickHouse (flushing at once). */
  visible(): Promise<void> {
    const upTo = this.#queue.at(-1)?.seq;
    if (upTo === undefined || upTo <= this.wal.checkpoint.flushed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#waiters.push({ upTo, resolve }));
    this.#start();
    return done;
  }

  /** Flushes everything queued (shutdown); gives up on a failing store after its retries stop. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const before = this.wal.checkpoint.flushed;
      this.#start();
      await this.#flushing;
      if (this.wal.checkpoint.flushed === before && this.stats.lastError) return; // the store is down: the log keeps them
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#timer = this.#retryTimer = undefined;
  }

  #schedule(): void {
    if (this.#flushing || this.#timer || this.#retryTimer || this.#stopped) return;
    if (this.#queuedRows >= this.options.flushRows) return this.#start();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#start();
    }, this.options.flushMs);
  }

  #start(): void {
    if (this.#flushing || this.#retryTimer || this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      if (this.#queue.length > 0 && !this.stats.lastError) {
        // Whatever arrived during the INSERT has waited long enough.
        if (this.#queuedRows >= this.options.flushRows || this.#waiters.length > 0) this.#start();
        else this.#schedule();
      }
    });
  }

  async #flush(): Promise<void> {
    const range = this.#nextRange();
    if (range.length === 0) return;
    const from = range[0]!.seq;
    const to = range.at(-1)!.seq;
    const token = `${this.wal.checkpoint.logId}:${from}-${to}`;
    const rows = range.reduce((n, r) => n + r.rows, 0);
    const started = performance.now();
    /** Set while the copies in memory (clickhouse/mirror) wait to hear how this INSERT ended. */
    let writing: Clickhouse | undefined;
    let noted: Clickhouse | undefined;
    try {
      this.wal.saveCheckpoint({ inFlight: { from, to } });
      const ch = this.clickhouse();
      const format = this.options.insertFormat ?? (ch.kind === "chdb" ? "rowbinary" : "tsv");
      const written = range.map(writtenBatch);
      readingsWriteBegins((writing = ch), written);
      if (this.#interrupted && this.#interrupted.from === from && this.#interrupted.to === to) {
        const report = await repairRange(ch, range, format, Date.now() - this.options.rawRetentionDays * 86_400_000);
        this.log.warn({ from, to, rows, ...report }, "ingest: the range in flight at the last crash checked and put right");
        this.#interrupted = null;
        // It deleted part of a batch before writing it again: the copies in memory load again.
        readingsRewritten(ch);
      } else {
        await insertReadings(ch, range.map((r) => r.payload), token, format);
        await insertBatches(ch, range.map((r) => ({ deviceId: r.deviceId, batchHash: r.batchHash, rows: r.rows, receivedAt: r.receivedAt })), `${token}:batches`);
        // Before anyone hears of the range (the automation reads latest values of what it judges).
        readingsWritten(ch, written);
      }
      [noted, writing] = [writing, undefined];
      this.stats.insertMs += performance.now() - started;
      this.wal.saveCheckpoint({ flushed: to, inFlight: null });
    } catch (error) {
      // Part of it may have landed (a rollup, the latest values): the copies in memory load again.
      if (writing) readingsRewritten(writing);
      // Taken, but the range will be sent again (and taken again) since the checkpoint failed.
      if (noted) forgetReadings(noted);
      // Kept until an INSERT succeeds: readiness reports it meanwhile.
      this.stats.lastError = messageOf(error);
      this.log.error({ err: this.stats.lastError, from, to, rows, retryInMs: this.#retryMs }, "flushing readings to ClickHouse failed; retrying the same range");
      if (!this.#stopped) {
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.#start();
        }, this.#retryMs);
      }
      this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
      return;
    }
    this.#retryMs = RETRY_MIN_MS;
    this.stats.lastError = undefined;
    this.#queue.splice(0, range.length);
    this.#queuedRows -= rows;
    this.stats.flushes += 1;
    this.stats.rowsFlushed += rows;
    this.stats.batchesFlushed += range.length;
    this.stats.lastFlushRows = rows;
    this.stats.lastFlushMs = performance.now() - started;
    this.onFlushed(range);
    this.#waiters = this.#waiters.filter((w) => (w.upTo <= to ? (w.resolve(), false) : true));
  }

  /**
   * The next range to send: the one in flight at a crash, exactly as it was (its token must name
   * the same records), else the contiguous records after the last flushed one, up to flushRows.
   */
  #nextRange(): WalRecord[] {
    const { flushed, inFlight } = this.wal.checkpoint;
    const range: WalRecord[] = [];
    let rows = 0;
    let expected = flushed + 1;
    for (const record of this.#queue) {
      if (record.seq !== expected) break; // not durable yet (or not added yet): the range ends here
      if (inFlight) {
        if (record.seq > inFlight.to) break;
      } else if (range.length > 0 && rows + record.rows > this.options.flushRows) break;
      range.push(record);
      rows += record.rows;
      expected++;
    }
    if (inFlight && range.at(-1)?.seq !== inFlight.to) return []; // the whole in-flight range must be back first
    return range;
  }
}

/** A record as the copies in memory take it: its newest readings as encoded, else read back from its rows. */
function writtenBatch(record: WalRecord): WrittenBatch {
  let rows: DecodedRow[] | undefined;
  return { ...(record.newest ?? latestOfRows(record.payload)), rows: () => (rows ??= decodeRows(record.payload)) };
}
