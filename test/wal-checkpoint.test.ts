import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { WriteAheadLog, type WalBatch } from "../server/pipelines/ingest/wal";

/**
 * The write-ahead log's checkpoint, written off the server's thread: what a save resolves to is on
 * disk, saves made while one is queued go out together, the newest state always wins, and a
 * segment goes once both the flusher and the automation are past it.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const batch = (n: number): WalBatch => ({
  deviceId: "00000000-0000-4000-8000-000000000001",
  siteId: "00000000-0000-4000-8000-000000000002",
  batchId: `b-${n}`,
  batchHash: BigInt(n),
  receivedAt: 1_700_000_000_000 + n,
  timestamped: true,
  rows: 1,
  minTs: n,
  maxTs: n,
  payload: new Uint8Array(48).fill(n % 256),
});

test("a saved checkpoint is on disk when the save resolves; the newest state wins; finished segments go", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "verdant-wal-"));
  dirs.push(dir);
  const onDisk = () => JSON.parse(readFileSync(path.join(dir, "checkpoint.json"), "utf8"));
  const segments = () => readdirSync(dir).filter((n) => n.startsWith("segment-")).length;

  // Segments of about two records each.
  const { wal } = WriteAheadLog.open(dir, { segmentBytes: 150 });
  for (let n = 1; n <= 8; n++) await wal.append(batch(n)).durable;
  expect(segments()).toBe(4);

  // A save being written holds the state it started with; saves made meanwhile go out together after it.
  const first = wal.saveCheckpoint({ inFlight: { from: 1, to: 4 } });
  await Promise.resolve(); // the write has begun
  const later = [wal.saveCheckpoint({ flushed: 4, inFlight: null }), wal.saveCheckpoint({ judged: 2 })];
  await first;
  expect(onDisk()).toMatchObject({ flushed: 0, judged: 0, inFlight: { from: 1, to: 4 } });
  await Promise.all(later);
  expect(onDisk()).toMatchObject({ flushed: 4, judged: 2, inFlight: null });
  // Only the segment both are past (records 1–2) went.
  expect(segments()).toBe(3);

  await wal.saveCheckpoint({ judged: 8, flushed: 8 });
  expect(onDisk()).toMatchObject({ flushed: 8, judged: 8 });
  expect(segments()).toBe(1); // the one being appended to stays
  await wal.close();

  // Opened again: nothing left to hand over, and the sequence goes on.
  const reopened = WriteAheadLog.open(dir, { segmentBytes: 150 });
  expect(reopened.checkpoint).toMatchObject({ flushed: 8, judged: 8, inFlight: null });
  expect(reopened.records.filter((r) => r.seq > 8)).toEqual([]);
  expect(reopened.wal.append(batch(9)).seq).toBe(9);
  await reopened.wal.close();
});
