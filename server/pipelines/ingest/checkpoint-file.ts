import { closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * Where the write-ahead log keeps its checkpoint (./wal.ts): a file of two fixed 4 KiB slots, each
 * saving overwriting the older one in place, then one fdatasync.
 *
 * Why not a new file renamed over the old one: that costs two fsyncs and a rename, each waiting
 * for the file system's journal to commit, and on ext4 the journal is shared with the embedded
 * engine's parts (files made and removed by the thousand a minute under ingest). A checkpoint is
 * saved twice per flush on the request thread, and measured beside 200 k readings/s and dashboard
 * queries, such a save took 25–570 ms, stalling every request meanwhile. Overwriting blocks that
 * already belong to the file changes no metadata fdatasync waits for: one data write and a cache
 * flush (the same run: three saves over 50 ms in two minutes, 111 ms at worst).
 *
 * A save interrupted by a crash can leave its slot torn; the other slot still holds the previous
 * checkpoint, which is what a crash just before the save would have left. Each slot carries a
 * generation and a CRC; the newest intact one is the checkpoint.
 *
 * Slot layout (little-endian): u32 length of the JSON · u32 CRC-32 of generation and JSON ·
 * f64 generation · JSON (UTF-8), the rest zeros.
 */

const FILE = "checkpoint.slots";
/** The earlier format: one JSON file, replaced by rename. Read once, then removed. */
const LEGACY_FILE = "checkpoint.json";
const SLOT_BYTES = 4096;
const HEAD_BYTES = 16;

export class CheckpointFile<T> {
  #fd: number;
  #generation: number;

  private constructor(fd: number, generation: number) {
    this.#fd = fd;
    this.#generation = generation;
  }

  /** The checkpoint saved in `dir` (or `fresh()`, saved now, when there is none: `created`) and the file to save the next ones in. */
  static open<T>(dir: string, fresh: () => T): { file: CheckpointFile<T>; saved: T; created: boolean } {
    const path = join(dir, FILE);
    if (existsSync(path)) {
      const { value, generation } = readSlots<T>(path);
      return { file: new CheckpointFile<T>(openSync(path, "r+"), generation), saved: value, created: false };
    }
    const legacy = join(dir, LEGACY_FILE);
    const earlier = existsSync(legacy) ? readLegacy<T>(legacy) : undefined;
    const saved = earlier ?? fresh();
    create(dir, saved);
    if (earlier !== undefined) {
      // The slots hold it now (the file appears only whole): the old file can go.
      rmSync(legacy, { force: true });
      syncDirectory(dir);
    }
    return { file: new CheckpointFile<T>(openSync(path, "r+"), 1), saved, created: earlier === undefined };
  }

  /** Saves the checkpoint: on disk when this returns. */
  save(value: T): void {
    const generation = this.#generation + 1;
    writeSync(this.#fd, slotOf(value, generation), 0, SLOT_BYTES, (generation % 2) * SLOT_BYTES);
    fdatasyncSync(this.#fd);
    this.#generation = generation;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

function slotOf(value: unknown, generation: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(value), "utf8");
  if (json.byteLength > SLOT_BYTES - HEAD_BYTES) throw new Error(`a checkpoint of ${json.byteLength} bytes does not fit a slot`);
  const slot = Buffer.alloc(SLOT_BYTES);
  slot.writeUInt32LE(json.byteLength, 0);
  slot.writeDoubleLE(generation, 8);
  json.copy(slot, HEAD_BYTES);
  slot.writeUInt32LE(Bun.hash.crc32(slot.subarray(8, HEAD_BYTES + json.byteLength)) >>> 0, 4);
  return slot;
}

/** The newest intact slot. */
function readSlots<T>(path: string): { value: T; generation: number } {
  const bytes = readFileSync(path);
  let best: { value: T; generation: number } | undefined;
  for (let at = 0; at + HEAD_BYTES <= bytes.byteLength; at += SLOT_BYTES) {
    const length = bytes.readUInt32LE(at);
    const end = at + HEAD_BYTES + length;
    if (length === 0 || end > Math.min(bytes.byteLength, at + SLOT_BYTES)) continue;
    if (Bun.hash.crc32(bytes.subarray(at + 8, end)) >>> 0 !== bytes.readUInt32LE(at + 4)) continue;
    const generation = bytes.readDoubleLE(at + 8);
    if (best && best.generation >= generation) continue;
    best = { value: JSON.parse(bytes.subarray(at + HEAD_BYTES, end).toString("utf8")) as T, generation };
  }
  if (!best) throw new Error(`write-ahead log checkpoint unreadable: no intact slot in ${path}`);
  return best;
}

function readLegacy<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (error) {
    throw new Error(`write-ahead log checkpoint unreadable: ${(error as Error).message}`);
  }
}

/** Both slots written to a new file, synced and renamed into place: the file exists only whole. */
function create(dir: string, value: unknown): void {
  const tmp = join(dir, `${FILE}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    const slots = Buffer.alloc(2 * SLOT_BYTES);
    Buffer.from(slotOf(value, 1)).copy(slots, SLOT_BYTES); // generation 1 lives in slot 1
    writeSync(fd, slots);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, FILE));
  syncDirectory(dir);
}

export function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
