import { and, eq, inArray } from "drizzle-orm";
import { devices, sensors } from "../../db/schema";
import { hashToken } from "../../server/platform";
import { postReadings, type Reading } from "./analytics";
import type { TestServer } from "./server";

/**
 * Readings acknowledged by POST /v1/ingest may become queryable a moment later (the ingest core
 * commits to a write-ahead log first). Suites that read ClickHouse right after posting go through
 * here: it waits until every posted reading can be found, by sensor and exact timestamp, instead of
 * sleeping for a guessed time.
 */

const POLL_MS = 20;

/** Waits until ClickHouse holds each of `readings` (the device's sensors by key, at their exact timestamps). */
export async function readingsVisible(server: TestServer, token: string, readings: Reading[], timeoutMs = 15_000): Promise<void> {
  const db = server.stores.db;
  const ch = server.stores.clickhouse;
  const [device] = await db.select({ id: devices.id }).from(devices).where(eq(devices.tokenHash, hashToken(token)));
  if (!device) throw new Error("no device has this token");
  const byKey = new Map<string, Set<number>>();
  for (const r of readings) {
    let set = byKey.get(r.sensor);
    if (!set) byKey.set(r.sensor, (set = new Set()));
    set.add(r.ts);
  }
  const rows = await db
    .select({ id: sensors.id, key: sensors.key })
    .from(sensors)
    .where(and(eq(sensors.deviceId, device.id), inArray(sensors.key, [...byKey.keys()])));
  const deadline = Date.now() + timeoutMs;
  for (const { id, key } of rows) {
    const stamps = [...byKey.get(key)!];
    for (;;) {
      const result = await ch.client.query({
        query: `SELECT count() AS n FROM ${ch.database}.readings WHERE sensor_id = {id:UUID} AND toUnixTimestamp64Milli(ts) IN {ts:Array(Int64)}`,
        query_params: { id, ts: stamps },
        format: "JSONEachRow",
      });
      const [{ n }] = (await result.json()) as [{ n: string | number }];
      if (Number(n) >= stamps.length) break;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${stamps.length} readings of ${key} became visible within ${timeoutMs} ms`);
      await Bun.sleep(POLL_MS);
    }
  }
}

/** Posts readings through POST /v1/ingest and returns once all of them can be queried. */
export async function postVisible(server: TestServer, token: string, readings: Reading[]): Promise<void> {
  await postReadings(server, token, readings);
  await readingsVisible(server, token, readings);
}
