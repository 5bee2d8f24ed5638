import { randomUUID } from "node:crypto";
import { closeSync, fdatasync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writevSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointFile, syncDirectory } from "./checkpoint-file";

/**
 * Ingest's write-ahead log: what a device's acknowledgement means.
 *
 * A batch is appended to the current segment file and acknowledged once an fdatasync has covered
 * it: from then on it survives a crash of the process and, as far as the disk honours flushes, a
 * power cut. Appends wait for the fdatasync together (group commit), so many concurrent batches
 * cost one sync. The flusher then copies batches to ClickHouse in large INSERTs, off the
 * acknowledgement path, and the automation engine judges them; a segment is deleted once both
 * are past its last batch. On start the log is read back and whatever ClickHouse or the engine
 * had not taken yet is handed to them again (`open` returns it).
 *
 * Record layout (little-endian), one per batch:
 *   u32 length of what follows the CRC · u32 CRC-32 of it ·
 *   f64 seq · f64 receivedAt · f64 minTs · f64 maxTs · u32 batchHash low · u32 high ·
 *   16 B device id · 16 B site id · u32 rows · u8 flags (1: every reading had its own ts) ·
 *   u8 batchId length · batchId (ASCII) · rows × 48 B of RowBinary (clickhouse/insert/rows.ts)
 * A record that does not check out (a torn write at the end of a segment after a crash) ends the
 * log there: it was never acknowledged, since acknowledgement waits for the sync.
 */

export interface WalBatch {
  deviceId: string;
  siteId: string;
  batchId: string;
  batchHash: bigint;
  /** Epoch ms the server received it (also the ts of readings sent without one). */
  receivedAt: number;
  /** Every reading carried its own timestamp. */
  timestamped: boolean;
  rows: number;
  minTs: number;
  maxTs: number;
  /** The readings as RowBinary rows, 48 bytes each. */
  payload: Uint8Array;
}

export interface WalRecord extends WalBatch {
  /** Position in the log: 1, 2, 3 … across segments and restarts. */
  seq: number;
  /** In memory only, for batches this process encoded: each sensor's newest reading (else read from the payload). */
  newest?: { sensorIds: readonly string[]; latestTs: ArrayLike<number>; latestValues: ArrayLike<number> };
}

/** What has been done with the log: persisted in a checkpoint file (./checkpoint-file.ts). */
export interface WalCheckpoint {
  /** Names this log in ClickHouse's insert deduplication tokens (a log per DATA_DIR). */
  logId: string;
  /**
   * Every batch acknowledged since this moment (epoch ms) went through the log: when it was
   * created, or 0 when ClickHouse held no device's batch then (a new installation, or after a
   * reset): every batch ever acknowledged did.
   */
  since: number;
  /** Every record up to here is in ClickHouse. */
  flushed: number;
  /** Every record up to here has been judged by the automation. */
  judged: number;
  /** The range an INSERT was sent for and not known to have landed: sent again, as is, on start. */
  inFlight: { from: number; to: number } | null;
}

export interface WalOptions {
  /** Start a new segment past this size (default 64 MiB). */
  segmentBytes?: number;
}

const HEADER_BYTES = 4 + 4;
const FIXED_BYTES = 8 * 4 + 8 + 16 + 16 + 4 + 1 + 1;
const ROW_BYTES = 48;
const SEGMENT = /^segment-(\d{16})\.log$/;
const segmentName = (firstSeq: number) => `segment-${String(firstSeq).padStart(16, "0")}.log`;

interface Segment {
  name: string;
  firstSeq: number;
  lastSeq: number;
}

interface OpenFile {
  fd: number;
  /** Bytes appended / covered by a finished fdatasync. */
  written: number;
  synced: number;
  /** A segment no longer appended to: closed once it is synced. */
  retiring: boolean;
  waiters: { offset: number; resolve: () => void; reject: (e: Error) => void }[];
}

export class WriteAheadLog {
  readonly dir: string;
  #segmentBytes: number;
  #segments: Segment[] = [];
  #current: OpenFile | undefined;
  #files: OpenFile[] = [];
  #nextSeq: number;
  #checkpoint: WalCheckpoint;
  #checkpointFile: CheckpointFile<WalCheckpoint>;
  #syncing: Promise<void> | undefined;
  #failed: Error | undefined;
  #closed = false;
  /** Syncs done, for tests and metrics. */
  syncs = 0;

  private constructor(dir: string, checkpoint: WalCheckpoint, checkpointFile: CheckpointFile<WalCheckpoint>, segments: Segment[], nextSeq: number, options: WalOptions) {
    this.dir = dir;
    this.#checkpoint = checkpoint;
    this.#checkpointFile = checkpointFile;
    this.#segments = segments;
    this.#nextSeq = nextSeq;
    this.#segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
  }

  /** Opens (or creates) the log in `dir` and reads back every record still in it, oldest first. */
  static open(dir: string, options: WalOptions = {}): { wal: WriteAheadLog; records: WalRecord[]; checkpoint: WalCheckpoint; created: boolean } {
    mkdirSync(dir, { recursive: true });
    const { checkpoint, file: checkpointFile, created } = readCheckpoint(dir);
    const segments: Segment[] = [];
    const records: WalRecord[] = [];
    let nextSeq = Math.max(checkpoint.flushed, checkpoint.judged) + 1;
    const names = readdirSync(dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    for (const name of names) {
      const file = join(dir, name);
      const bytes = readFileSync(file);
      const { read, end } = decodeSegment(bytes);
      if (end < bytes.byteLength) truncateSync(file, end); // a torn tail: never acknowledged
      if (read.length === 0) {
        rmSync(file, { force: true });
        continue;
      }
      segments.push({ name, firstSeq: read[0]!.seq, lastSeq: read.at(-1)!.seq });
      for (const r of read) records.push(r);
      nextSeq = Math.max(nextSeq, read.at(-1)!.seq + 1);
    }
    const wal = new WriteAheadLog(dir, checkpoint, checkpointFile, segments, nextSeq, options);
    return { wal, records, checkpoint: { ...checkpoint }, created };
  }

  get checkpoint(): Readonly<WalCheckpoint> {
    return this.#checkpoint;
  }

  /**
   * Appends a batch and returns its place in the log and a promise that resolves once it is on
   * disk (fdatasync). Rejects, as every later append does, if a write or a sync fails: the disk
   * is then not to be trusted, and ingest must refuse batches rather than acknowledge them.
   */
  append(batch: WalBatch): { seq: number; durable: Promise<void> } {
    if (this.#closed) throw new Error("the write-ahead log is closed");
    if (this.#failed) throw this.#failed;
    if (!this.#current || this.#current.written >= this.#segmentBytes) this.#rotate();
    const file = this.#current!;
    const seq = this.#nextSeq++;
    const record = encodeHead(seq, batch);
    try {
      const written = writevSync(file.fd, [record, batch.payload]);
      if (written !== record.byteLength + batch.payload.byteLength) throw new Error(`short write (${written} bytes)`);
    } catch (error) {
      this.#fail(error);
      throw this.#failed;
    }
    file.written += record.byteLength + batch.payload.byteLength;
    this.#segments.at(-1)!.lastSeq = seq;
    const offset = file.written;
    const durable = new Promise<void>((resolve, reject) => file.waiters.push({ offset, resolve, reject }));
    this.#sync();
    return { seq, durable };
  }

  /** Persists what has been done with the log and deletes the segments nothing needs any more. */
  saveCheckpoint(update: Partial<Omit<WalCheckpoint, "logId" | "since">>): void {
    this.#checkpoint = { ...this.#checkpoint, ...update };
    this.#checkpointFile.save(this.#checkpoint);
    const done = Math.min(this.#checkpoint.flushed, this.#checkpoint.judged);
    // The segment being appended to stays. Removed in the I/O pool: unlinking 64 MB took 25-30 ms
    // of the request thread beside ingest. A segment a crash leaves behind is read again at the next
    // start and removed at its first checkpoint.
    while (this.#segments.length > 1 && this.#segments[0]!.lastSeq <= done) {
      const file = join(this.dir, this.#segments.shift()!.name);
      this.#removing = this.#removing.then(() => rm(file, { force: true })).catch(() => {
        // Left on disk: the next start removes it.
      });
    }
  }

  /** Removals of finished segments, one after another. */
  #removing: Promise<void> = Promise.resolve();

  /** The log was created when no batch had ever been acknowledged: it holds (or held) every one. */
  coverAllHistory(): void {
    this.#checkpoint = { ...this.#checkpoint, since: 0 };
    this.#checkpointFile.save(this.#checkpoint);
  }

  /** Lets every append made so far reach the disk, then closes the segments. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#current) this.#current.retiring = true;
    this.#sync();
    while (this.#syncing) await this.#syncing;
    await this.#removing;
    for (const file of this.#files.splice(0)) closeSync(file.fd);
    this.#current = undefined;
    this.#checkpointFile.close();
  }

  #rotate(): void {
    // The old segment is closed once its last appends are synced (see #sync).
    if (this.#current) this.#current.retiring = true;
    const name = segmentName(this.#nextSeq);
    const file: OpenFile = { fd: openSync(join(this.dir, name), "a"), written: 0, synced: 0, retiring: false, waiters: [] };
    this.#files.push(file);
    this.#current = file;
    this.#segments.push({ name, firstSeq: this.#nextSeq, lastSeq: this.#nextSeq - 1 });
    // The new file's name must survive a crash too, or its acknowledged records would vanish with it.
    syncDirectory(this.dir);
  }

  /** One fdatasync at a time; appends made while it runs are covered by the next one. */
  #sync(): void {
    if (this.#syncing || this.#failed) return;
    // Retired segments whose appends are all on disk are closed.
    for (const done of this.#files.filter((f) => f.retiring && f.synced >= f.written)) {
      closeSync(done.fd);
      this.#files.splice(this.#files.indexOf(done), 1);
    }
    const file = this.#files.find((f) => f.written > f.synced);
    if (!file) return;
    const upTo = file.written;
    this.#syncing = new Promise<void>((resolve) => {
      fdatasync(file.fd, (error) => {
        this.#syncing = undefined;
        this.syncs++;
        if (error) this.#fail(error);
        else {
          file.synced = upTo;
          const still = [];
          for (const w of file.waiters) {
            if (w.offset <= upTo) w.resolve();
            else still.push(w);
          }
          file.waiters = still;
          this.#sync();
        }
        resolve();
      });
    });
  }

  #fail(error: unknown): void {
    this.#failed ??= new Error(`the write-ahead log cannot be written: ${error instanceof Error ? error.message : String(error)}`);
    for (const file of this.#files) for (const w of file.waiters.splice(0)) w.reject(this.#failed);
  }
}

/** A record's head (everything before the payload), with its length and CRC filled in. */
function encodeHead(seq: number, batch: WalBatch): Uint8Array {
  const idBytes = Buffer.from(batch.batchId, "latin1");
  const bytes = new Uint8Array(HEADER_BYTES + FIXED_BYTES + idBytes.byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.byteLength - HEADER_BYTES + batch.payload.byteLength, true);
  let at = HEADER_BYTES;
  view.setFloat64(at, seq, true);
  view.setFloat64(at + 8, batch.receivedAt, true);
  view.setFloat64(at + 16, batch.minTs, true);
  view.setFloat64(at + 24, batch.maxTs, true);
  view.setUint32(at + 32, Number(batch.batchHash & 0xffffffffn), true);
  view.setUint32(at + 36, Number(batch.batchHash >> 32n), true);
  at += 40;
  bytes.set(uuidBytes(batch.deviceId), at);
  bytes.set(uuidBytes(batch.siteId), at + 16);
  at += 32;
  view.setUint32(at, batch.rows, true);
  view.setUint8(at + 4, batch.timestamped ? 1 : 0);
  view.setUint8(at + 5, idBytes.byteLength);
  bytes.set(idBytes, at + 6);
  const crc = Bun.hash.crc32(batch.payload, Bun.hash.crc32(bytes.subarray(HEADER_BYTES)));
  view.setUint32(4, crc >>> 0, true);
  return bytes;
}

/** Every whole, intact record of a segment, and where the intact part ends. */
function decodeSegment(bytes: Buffer): { read: WalRecord[]; end: number } {
  const read: WalRecord[] = [];
  let at = 0;
  while (at + HEADER_BYTES + FIXED_BYTES <= bytes.byteLength) {
    const length = bytes.readUInt32LE(at);
    const crc = bytes.readUInt32LE(at + 4);
    const start = at + HEADER_BYTES;
    const end = start + length;
    if (length < FIXED_BYTES || end > bytes.byteLength) break;
    const body = bytes.subarray(start, end);
    if (Bun.hash.crc32(body) >>> 0 !== crc) break;
    const idLength = body.readUInt8(FIXED_BYTES - 1);
    const rows = body.readUInt32LE(8 * 4 + 8 + 32);
    const payloadStart = FIXED_BYTES + idLength;
    if (payloadStart + rows * ROW_BYTES !== body.byteLength) break;
    read.push({
      seq: body.readDoubleLE(0),
      receivedAt: body.readDoubleLE(8),
      minTs: body.readDoubleLE(16),
      maxTs: body.readDoubleLE(24),
      batchHash: BigInt(body.readUInt32LE(32)) | (BigInt(body.readUInt32LE(36)) << 32n),
      deviceId: uuidString(body.subarray(40, 56)),
      siteId: uuidString(body.subarray(56, 72)),
      rows,
      timestamped: body.readUInt8(76) === 1,
      batchId: body.subarray(FIXED_BYTES, payloadStart).toString("latin1"),
      // A copy: the segment's buffer is released after reading.
      payload: new Uint8Array(body.subarray(payloadStart)),
    });
    at = end;
  }
  return { read, end: at };
}

function uuidBytes(id: string): Uint8Array {
  return Buffer.from(id.replaceAll("-", ""), "hex");
}

function uuidString(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function readCheckpoint(dir: string): { checkpoint: WalCheckpoint; file: CheckpointFile<WalCheckpoint>; created: boolean } {
  const { file, saved, created } = CheckpointFile.open<WalCheckpoint>(dir, () => ({ logId: randomUUID(), since: Date.now(), flushed: 0, judged: 0, inFlight: null }));
  // Checkpoints of earlier versions lack the later fields.
  const checkpoint = { logId: saved.logId, since: saved.since, flushed: saved.flushed ?? 0, judged: saved.judged ?? 0, inFlight: saved.inFlight ?? null };
  return { checkpoint, file, created };
}
