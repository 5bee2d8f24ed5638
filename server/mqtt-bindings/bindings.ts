import { and, asc, desc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { devices, mqttBindings, mqttDiscovered } from "../../db/schema";
import { normaliseMac } from "../../shared/mqtt-topics";
import { DEFAULT_PREFIXES, type MqttMapping, type MqttPreset } from "../../shared/schemas/mqtt";
import { provisionDevice, requireDevice } from "../devices";
import { AppError } from "../platform";

/**
 * MQTT bindings (which topics feed which device) and the topics that arrived unbound, in Postgres.
 * A write to mqtt_bindings announces a change of its site (a trigger, migration 0008), so every
 * server's site directory, where the MQTT pipeline reads bindings from, picks it up.
 */

export type Binding = typeof mqttBindings.$inferSelect;
export type Discovered = typeof mqttDiscovered.$inferSelect;

export interface BindingTarget {
  preset: MqttPreset;
  base: string;
  prefix?: string | undefined;
  mapping?: MqttMapping | undefined;
}

/** The form a binding is stored and matched in: MACs without colons, default prefixes filled in. */
export function normaliseTarget(target: BindingTarget): { preset: MqttPreset; prefix: string; base: string; mapping: MqttMapping | null } {
  const base = target.preset === "omg" ? normaliseMac(target.base) : target.base;
  return { preset: target.preset, prefix: target.prefix ?? DEFAULT_PREFIXES[target.preset], base, mapping: target.preset === "generic" ? (target.mapping ?? {}) : null };
}

export async function listBindings(db: Db, siteId: string, deviceId?: string): Promise<Binding[]> {
  if (deviceId) await requireDevice(db, siteId, deviceId);
  return db
    .select()
    .from(mqttBindings)
    .where(and(eq(mqttBindings.siteId, siteId), deviceId ? eq(mqttBindings.deviceId, deviceId) : undefined))
    .orderBy(asc(mqttBindings.createdAt), asc(mqttBindings.id));
}

/** Binds a topic to a device; the topic's "discovered" entry, if any, is done with. */
export async function bindTopic(db: Db, siteId: string, deviceId: string, target: BindingTarget): Promise<Binding> {
  await requireDevice(db, siteId, deviceId);
  const normal = normaliseTarget(target);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(mqttBindings)
      .values({ siteId, deviceId, ...normal })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new AppError("CONFLICT", "this topic is already bound to a device: unbind it first", { path: "base" });
    await tx
      .delete(mqttDiscovered)
      .where(and(eq(mqttDiscovered.siteId, siteId), eq(mqttDiscovered.preset, normal.preset), eq(mqttDiscovered.prefix, normal.prefix), eq(mqttDiscovered.base, normal.base)));
    return row;
  });
}

export async function unbindTopic(db: Db, siteId: string, bindingId: string): Promise<Binding> {
  const [row] = await db
    .delete(mqttBindings)
    .where(and(eq(mqttBindings.id, bindingId), eq(mqttBindings.siteId, siteId)))
    .returning();
  if (!row) throw new AppError("NOT_FOUND", "binding not found", { path: "bindingId" });
  return row;
}

export async function listDiscovered(db: Db, siteId: string, limit: number): Promise<Discovered[]> {
  return db
    .select()
    .from(mqttDiscovered)
    .where(eq(mqttDiscovered.siteId, siteId))
    .orderBy(desc(mqttDiscovered.lastSeenAt), asc(mqttDiscovered.id))
    .limit(limit);
}

/** A name for a device made from what its tool calls it. */
function deviceNameOf(discovered: Discovered): string {
  if (discovered.preset === "omg") return `BLE ${discovered.base.match(/../g)!.join(":")}`;
  return discovered.base.slice(0, 100);
}

/**
 * Adopts a discovered topic in one step: binds it to the given device, or to a new one (whose
 * token is returned once, as provisioning does; an MQTT device needs it only on the embedded broker).
 */
export async function adoptDiscovered(db: Db, siteId: string, input: { discoveredId: string; deviceId?: string | undefined; deviceName?: string | undefined }) {
  const [found] = await db
    .select()
    .from(mqttDiscovered)
    .where(and(eq(mqttDiscovered.id, input.discoveredId), eq(mqttDiscovered.siteId, siteId)));
  if (!found) throw new AppError("NOT_FOUND", "discovered topic not found (already adopted?)", { path: "discoveredId" });
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    let token: string | null = null;
    let deviceId = input.deviceId;
    if (deviceId) await requireDevice(t, siteId, deviceId);
    else {
      const created = await provisionDevice(t, siteId, { name: input.deviceName ?? deviceNameOf(found) });
      deviceId = created.device.id;
      token = created.token;
    }
    const binding = await bindTopic(t, siteId, deviceId, { preset: found.preset as MqttPreset, prefix: found.prefix, base: found.base });
    const [device] = await tx.select({ id: devices.id, name: devices.name }).from(devices).where(eq(devices.id, deviceId));
    return { binding, device: device!, token };
  });
}
