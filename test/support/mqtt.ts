import { eq } from "drizzle-orm";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { queryRows } from "../../clickhouse/client";
import { siteMembers, sites, sensors } from "../../db/schema";
import type { TestServer } from "./server";

/** Helpers for MQTT suites: a real publishing client, and what landed in the stores. */

const PASSWORD = "correct horse battery";

/** Polls until `check` returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ""}`);
}

export async function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
}

/** An owner signed in through the API, and a site with the given id (the one MQTT_SITE_ID names) that they own. */
export async function ownerOfSite(server: TestServer, email: string, siteId: string) {
  const owner = await server.client().auth.register.mutate({ email, password: PASSWORD, displayName: "M", client: "app" });
  const api = server.client(owner.token!);
  const { user } = await api.auth.me.query();
  await server.stores.db.insert(sites).values({ id: siteId, name: "Broker site" });
  await server.stores.db.insert(siteMembers).values({ siteId, userId: user.id, role: "owner" });
  return api;
}

export type Api = Awaited<ReturnType<typeof ownerOfSite>>;

export interface StoredReading {
  key: string;
  metric: string;
  ts: number;
  value: number;
}

/**
 * Every reading stored for the device, straight from ClickHouse, by sensor key then time. What
 * ingest acknowledged (and so what a PUBACK stands for) reaches ClickHouse a moment later: this
 * waits for everything acknowledged so far to be there first.
 */
export async function readingsOf(server: TestServer, deviceId: string): Promise<StoredReading[]> {
  await server.settled();
  const rows = await server.stores.db.select({ id: sensors.id, key: sensors.key, metric: sensors.metric }).from(sensors).where(eq(sensors.deviceId, deviceId));
  if (rows.length === 0) return [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ch = server.stores.clickhouse;
  const stored = await queryRows<{ sensor_id: string; t: string | number; value: number }>(
    ch,
    `SELECT sensor_id, toUnixTimestamp64Milli(ts) AS t, value FROM ${ch.database}.readings WHERE sensor_id IN {ids:Array(UUID)} ORDER BY sensor_id, ts`,
    { ids: rows.map((r) => r.id) },
  );
  return stored
    .map((r) => ({ key: byId.get(r.sensor_id)!.key, metric: byId.get(r.sensor_id)!.metric, ts: Number(r.t), value: Number(r.value) }))
    .sort((a, b) => a.key.localeCompare(b.key) || a.ts - b.ts);
}

/** The devices' sensor count: a message that was not bound must not have made any. */
export async function sensorCount(server: TestServer, siteId: string): Promise<number> {
  return (await server.stores.db.select({ id: sensors.id }).from(sensors).where(eq(sensors.siteId, siteId))).length;
}
