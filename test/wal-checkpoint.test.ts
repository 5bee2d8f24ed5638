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
