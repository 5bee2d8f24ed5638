import { describe, expect, test } from "bun:test";
import { parseBatch } from "../server/pipelines/ingest/parse";
import { ingestBody } from "../shared/schemas/device";

/**
 * The device wire contract is written once, as zod schemas in shared/schemas/device.ts; the
 * server's hot-path parser (server/pipelines/ingest/parse.ts) is its hand-written twin. Whatever
 * one accepts, the other must accept, over a corpus of good and bad batches.
 */

const NOW = Date.UTC(2026, 11, 1, 12);
const LIMITS = { maxReadings: 10_000, maxClockSkewMs: 300_000, maxAgeMs: 3650 * 86_400_000 };

const good: unknown[] = [
  { batchId: "b1", readings: [{ sensor: "soil1", value: 41.7 }] },
  { batchId: "b.2:x-y_z", attempt: 3, readings: [{ sensor: "temp", value: -3.5, ts: NOW - 1000, metric: "temperature" }] },
  { batchId: "b3", readings: [] },
  { batchId: "b4", readings: [{ sensor: "a", value: 0, ts: null, metric: null }] },
  { batchId: "c1", sensor: "lux", value: [812, 830] },
  { batchId: "c2", sensor: "lux", metric: "light", value: [1, 2], ts: [NOW - 2000, NOW - 1000] },
  { batchId: "x".repeat(128), readings: [{ sensor: "k".repeat(64), value: 1e15 }, { sensor: "k", value: -1e15 }] },
];

const bad: unknown[] = [
  null,
  [],
  "text",
  {},
  { readings: [] },
  { batchId: "", readings: [] },
  { batchId: "has space", readings: [] },
  { batchId: "x".repeat(129), readings: [] },
  { batchId: "b", attempt: 0, readings: [] },
  { batchId: "b", attempt: 1.5, readings: [] },
  { batchId: "b", attempt: "1", readings: [] },
  { batchId: "b", readings: "nope" },
  { batchId: "b", readings: [null] },
  { batchId: "b", readings: [{ value: 1 }] },
  { batchId: "b", readings: [{ sensor: "bad key", value: 1 }] },
  { batchId: "b", readings: [{ sensor: "k".repeat(65), value: 1 }] },
  { batchId: "b", readings: [{ sensor: "s", value: "1" }] },
  { batchId: "b", readings: [{ sensor: "s", value: null }] },
  { batchId: "b", readings: [{ sensor: "s", value: 1.5e15 }] },
  { batchId: "b", readings: [{ sensor: "s", value: 1, ts: 1.5 }] },
  { batchId: "b", readings: [{ sensor: "s", value: 1, ts: "2026-01-01" }] },
  { batchId: "b", readings: [{ sensor: "s", value: 1, ts: Date.UTC(1999, 11, 31) }] },
  { batchId: "b", readings: [{ sensor: "s", value: 1, metric: "weight" }] },
  { batchId: "b", readings: [{ sensor: "s", value: 1, metric: 7 }] },
  { batchId: "c", sensor: "lux", value: [1, "2"] },
  { batchId: "c", sensor: "bad key", value: [1] },
  { batchId: "c", value: [1] },
  { batchId: "c", sensor: "lux", value: [1, 2], ts: [NOW] },
  { batchId: "c", sensor: "lux", value: [1], ts: [NOW], metric: "weight" },
];

describe("the device wire contract and the server's parser agree", () => {
  test.each(good.map((b) => [JSON.stringify(b).slice(0, 80), b] as const))("accepted by both: %s", (_, body) => {
    expect(ingestBody.safeParse(body).success).toBe(true);
    expect(parseBatch(body, NOW, LIMITS).ok).toBe(true);
  });

  test.each(bad.map((b) => [JSON.stringify(b)?.slice(0, 80) ?? String(b), b] as const))("refused by both: %s", (_, body) => {
    expect(ingestBody.safeParse(body).success).toBe(false);
    expect(parseBatch(body, NOW, LIMITS).ok).toBe(false);
  });

  test("a refused reading is named by its index and the same reason", () => {
    const body = { batchId: "b", readings: [{ sensor: "ok", value: 1 }, { sensor: "s", value: 1, ts: Date.UTC(1999, 0, 1) }] };
    const zod = ingestBody.safeParse(body);
    const ours = parseBatch(body, NOW, LIMITS);
    expect(zod.success || ours.ok).toBe(false);
    if (ours.ok || zod.success) return;
    expect(ours.rejected).toEqual([{ index: 1, reason: "ts is before 2000-01-01: is the device clock set?" }]);
    expect(zod.error.issues.map((i) => i.message)).toContain("ts is before 2000-01-01: is the device clock set?");
  });
});
