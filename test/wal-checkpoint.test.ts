import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CheckpointFile } from "../server/pipelines/ingest/checkpoint-file";
import { WriteAheadLog } from "../server/pipelines/ingest/wal";

/**
 * The write-ahead log's checkpoint: two slots overwritten in turn, so that a save torn by a crash
 * leaves the previous checkpoint, and a checkpoint of the earlier one-JSON-file format is taken over.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "verdant-checkpoint-"));
  dirs.push(dir);
  return dir;
}

interface Saved {
  flushed: number;
}

function open(dir: string) {
  return CheckpointFile.open<Saved>(dir, () => ({ flushed: 0 }));
}

/** Overwrites a slot's bytes, as a crash in the middle of writing it could leave them. */
function tear(dir: string, slot: number): void {
  const fd = openSync(path.join(dir, "checkpoint.slots"), "r+");
  writeSync(fd, Buffer.from("torn write, half of a checkpoint"), 0, 32, slot * 4096 + 20);
  closeSync(fd);
}

test("a fresh directory starts from the fresh checkpoint; each save is what the next open reads", () => {
  const dir = tempDir();
  const first = open(dir);
  expect(first.created).toBe(true);
  expect(first.saved).toEqual({ flushed: 0 });
  for (let n = 1; n <= 5; n++) first.file.save({ flushed: n });
  first.file.close();
  const again = open(dir);
  expect(again.created).toBe(false);
  expect(again.saved).toEqual({ flushed: 5 });
  again.file.save({ flushed: 6 });
  again.file.close();
  expect(open(dir).saved).toEqual({ flushed: 6 });
  expect(readdirSync(dir)).toEqual(["checkpoint.slots"]);
});

test("a torn save leaves the checkpoint before it, and saving goes on from there", () => {
  const dir = tempDir();
  const { file } = open(dir);
  file.save({ flushed: 10 }); // generation 2, slot 0
  file.save({ flushed: 11 }); // generation 3, slot 1
  file.close();
  tear(dir, 1);
  const after = open(dir);
  expect(after.saved).toEqual({ flushed: 10 });
  after.file.save({ flushed: 12 }); // over the torn slot
  after.file.close();
  expect(open(dir).saved).toEqual({ flushed: 12 });
  // The other slot torn now: the newest intact one is still read.
  tear(dir, 0);
  expect(open(dir).saved).toEqual({ flushed: 12 });
});

test("both slots torn: the log refuses to start rather than guess", () => {
  const dir = tempDir();
  const { file } = open(dir);
  file.save({ flushed: 1 });
  file.close();
  tear(dir, 0);
  tear(dir, 1);
  expect(() => open(dir)).toThrow("write-ahead log checkpoint unreadable");
});

test("a checkpoint of the earlier format (checkpoint.json) is taken over, then that file is gone", async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, "checkpoint.json"), JSON.stringify({ logId: "log-1", since: 5, flushed: 7, judged: 3 }));
  const { wal, checkpoint, created } = WriteAheadLog.open(dir);
  expect(created).toBe(false);
  expect(checkpoint).toEqual({ logId: "log-1", since: 5, flushed: 7, judged: 3, inFlight: null });
  expect(existsSync(path.join(dir, "checkpoint.json"))).toBe(false);
  wal.saveCheckpoint({ flushed: 9, inFlight: { from: 10, to: 12 } });
  await wal.close();
  const reopened = WriteAheadLog.open(dir);
  expect(reopened.checkpoint).toEqual({ logId: "log-1", since: 5, flushed: 9, judged: 3, inFlight: { from: 10, to: 12 } });
  await reopened.wal.close();
});

/** A batch of `rows` readings (their bytes do not matter to the log). */
function batch(rows: number): Parameters<WriteAheadLog["append"]>[0] {
  return {
    deviceId: "00000000-0000-4000-8000-000000000001",
    siteId: "00000000-0000-4000-8000-000000000002",
    batchId: `b-${Math.random()}`,
    batchHash: 1n,
    receivedAt: 1,
    timestamped: true,
    rows,
    minTs: 1,
    maxTs: 1,
    payload: new Uint8Array(rows * 48),
  };
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith("segment-")).sort();

test("a segment is removed at the first checkpoint after it is both flushed and judged, in the same run or the next", async () => {
  const dir = tempDir();
  const { wal } = WriteAheadLog.open(dir, { segmentBytes: 1000 });
  // 500-reading batches of 24 KB: every append after the first starts a segment of its own.
  const seqs: number[] = [];
  for (let i = 0; i < 4; i++) {
    const { seq, durable } = wal.append(batch(500));
    await durable;
    seqs.push(seq);
  }
  expect(segments(dir)).toHaveLength(4);
  // Flushed but not yet judged by the automation: nothing may go.
  wal.saveCheckpoint({ flushed: seqs[2]! });
  await wal.close();
  expect(segments(dir)).toHaveLength(4);

  const reopened = WriteAheadLog.open(dir, { segmentBytes: 1000 });
  expect(reopened.records.map((r) => r.seq)).toEqual(seqs);
  const kept = segments(dir);
  // The first two are judged now too; the third and the one being appended to stay.
  reopened.wal.saveCheckpoint({ judged: seqs[1]! });
  await reopened.wal.close();
  expect(segments(dir)).toEqual(kept.slice(2));
  const last = WriteAheadLog.open(dir);
  expect(last.records.map((r) => r.seq)).toEqual(seqs.slice(2));
  await last.wal.close();
});
