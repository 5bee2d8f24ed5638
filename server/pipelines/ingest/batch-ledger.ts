/**
 * Which batches each device has already had acknowledged: what makes a retry a duplicate.
 *
 * Exactly-once is per (device, batchId), whether or not the readings carry timestamps, across
 * retries, restarts and crashes. The ledger answers from memory for the batches of a recent window
 * (the last `capacity` batches, kept in two generations of maps keyed by a 53-bit hash of the
 * device and the batch id's hash), rebuilt on start from ClickHouse's `batches` table and the
 * write-ahead log.
 * Outside that window it asks ClickHouse (`lookup`, injected), and only when the batch could be
 * an old one:
 *
 *  - a batch whose readings all carry timestamps was, if it was ever acknowledged, acknowledged
 *    no earlier than its newest reading less the allowed clock skew (readings further in the future
 *    are refused). If that moment is inside the window, the window would know it: no lookup. So a
 *    device sending current readings never costs a lookup;
 *  - a batch without timestamps carries no such bound: it is looked up once the window no longer
 *    reaches back to the start of the ledger's history (until then, the window holds every batch);
 *  - with several servers (`shared`: a ClickHouse server rather than the embedded engine) a retry
 *    may reach another server than the first attempt: every batch the window does not know is
 *    looked up.
 * Lookups are gathered (every batch that needs one while a lookup runs goes into the next) so that
 * one query serves many requests.
 */

export interface LedgerKey {
  deviceId: string;
  batchId: string;
  batchHash: bigint;
  /** Newest reading (epoch ms) and whether every reading carried its own ts. */
  maxTs: number;
  minTs: number;
  timestamped: boolean;
  sensorIds: readonly string[];
}

/** The readings each of these batches already has in ClickHouse (absent: none). */
export type BatchLookup = (batches: LedgerKey[]) => Promise<Map<LedgerKey, number>>;

export interface LedgerOptions {
  /** Batches remembered (default 1,000,000: about 50 MB). */
  capacity: number;
  /** How far in the future a reading may be when accepted (INGEST_MAX_CLOCK_SKEW_SECONDS). */
  maxClockSkewMs: number;
  /** Since when the ledger has seen every acknowledged batch (the write-ahead log's start). */
  historySince: number;
  /** Several servers may share ClickHouse: a batch the window does not know is always looked up. */
  shared: () => boolean;
  lookup: BatchLookup;
}

interface Generation {
  rows: Map<number, number>;
  /** Receive time of its oldest entry. */
  since: number;
}

export class BatchLedger {
  #current: Generation;
  #previous: Generation | undefined;
  /** Every batch acknowledged at or after this moment is in the window. */
  #coveredSince: number;
  /** Batches on their way to the log: a retry waits for the first attempt's outcome. */
  #pending = new Map<number, Promise<number | undefined>>();
  #queue: { key: LedgerKey; resolve: (rows: number | undefined) => void; reject: (e: unknown) => void }[] = [];
  #looking: Promise<void> | undefined;
  /** Lookups sent to ClickHouse and batches they covered, for tests and metrics. */
  readonly stats = { lookups: 0, batchesLookedUp: 0 };

  constructor(private readonly options: LedgerOptions) {
    this.#current = { rows: new Map(), since: options.historySince };
    this.#coveredSince = options.historySince;
  }

  static keyOf(deviceId: string, batchHash: bigint): number {
    // 53 bits of a 64-bit hash: a number key, and a collision between two live batches of the
    // window about as likely as never (n² / 2⁵⁴).
    return Number(Bun.hash.xxHash64(`${deviceId}/${batchHash}`) >> 11n);
  }

  /** The readings of this batch already acknowledged, or undefined for a batch not seen before. */
  async known(key: LedgerKey): Promise<number | undefined> {
    const k = BatchLedger.keyOf(key.deviceId, key.batchHash);
    const here = this.#get(k);
    if (here !== undefined) return here;
    const pending = this.#pending.get(k);
    if (pending) {
      const first = await pending;
      if (first !== undefined) return first;
    }
    if (!this.#needsLookup(key)) return undefined;
    const found = await new Promise<number | undefined>((resolve, reject) => {
      this.#queue.push({ key, resolve, reject });
      this.#lookNext();
    });
    if (found !== undefined) this.remember(key.deviceId, key.batchHash, found, Date.now());
    return found;
  }

  /**
   * Claims a batch `known` did not know, synchronously, so that two requests carrying it cannot
   * both go on: the loser gets null (and asks `known` again, which waits for the winner). The
   * winner settles the claim with the readings acknowledged, or undefined if it failed.
   */
  claim(deviceId: string, batchHash: bigint): ((rows: number | undefined) => void) | null {
    const k = BatchLedger.keyOf(deviceId, batchHash);
    if (this.#get(k) !== undefined || this.#pending.has(k)) return null;
    let settle: (rows: number | undefined) => void = () => {};
    const outcome = new Promise<number | undefined>((resolve) => (settle = resolve));
    this.#pending.set(k, outcome);
    return (rows) => {
      if (this.#pending.get(k) === outcome) this.#pending.delete(k);
      settle(rows);
    };
  }

  /** An acknowledged batch (or one found in ClickHouse). */
  remember(deviceId: string, batchHash: bigint, rows: number, receivedAt: number): void {
    if (this.#current.rows.size >= this.options.capacity / 2) {
      // The oldest generation goes: the window now starts where the kept one starts.
      if (this.#previous) this.#coveredSince = Math.max(this.#coveredSince, this.#current.since);
      this.#previous = this.#current;
      this.#current = { rows: new Map(), since: receivedAt };
    }
    this.#current.rows.set(BatchLedger.keyOf(deviceId, batchHash), rows);
  }

  /**
   * Fills the window on start from what ClickHouse has (newest last, at most `capacity`); with a
   * full window, what came before its oldest entry is no longer covered.
   */
  load(entries: { deviceId: string; batchHash: bigint; rows: number; receivedAt: number }[]): void {
    for (const e of entries) this.remember(e.deviceId, e.batchHash, e.rows, e.receivedAt);
    if (entries.length >= this.options.capacity) this.#coveredSince = Math.max(this.#coveredSince, entries[0]!.receivedAt);
  }

  /**
   * The ledger has seen every acknowledged batch since `since` after all (earlier than it was told:
   * nothing was acknowledged before the log began). Only before the window has moved on.
   */
  historyFrom(since: number): void {
    if (this.#coveredSince === this.options.historySince) this.#coveredSince = Math.min(this.#coveredSince, since);
    this.options.historySince = since;
  }

  get coveredSince(): number {
    return this.#coveredSince;
  }

  #get(k: number): number | undefined {
    return this.#current.rows.get(k) ?? this.#previous?.rows.get(k);
  }

  #needsLookup(key: LedgerKey): boolean {
    if (this.options.shared()) return true;
    if (key.timestamped) return key.maxTs - this.options.maxClockSkewMs < this.#coveredSince;
    return this.#coveredSince > this.options.historySince;
  }

  #lookNext(): void {
    if (this.#looking || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0);
    this.stats.lookups++;
    this.stats.batchesLookedUp += batch.length;
    this.#looking = this.options
      .lookup(batch.map((q) => q.key))
      .then(
        (found) => {
          for (const q of batch) q.resolve(found.get(q.key));
        },
        (error: unknown) => {
          for (const q of batch) q.reject(error);
        },
      )
      .finally(() => {
        this.#looking = undefined;
        this.#lookNext();
      });
  }
}
