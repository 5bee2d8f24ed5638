import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { MqttMapping } from "../../shared/schemas/mqtt";
import { devices } from "./devices";
import { sites } from "./sites";

/**
 * MQTT topics bound to devices. A preset binding is (preset, prefix, base): Zigbee2MQTT's friendly
 * name under its base topic, a Tasmota topic, a BLE MAC, an ESPHome node; a generic binding's base
 * is a topic pattern with + and #, and its mapping says where the values are. One binding per
 * (site, preset, prefix, base): a topic feeds one device.
 */
export const mqttBindings = pgTable(
  "mqtt_bindings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    deviceId: uuid("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    /** zigbee2mqtt, tasmota, omg, esphome or generic. */
    preset: text("preset").notNull(),
    /** The tool's base topic (zigbee2mqtt's base_topic, OpenMQTTGateway's "home"); "" where none. */
    prefix: text("prefix").notNull().default(""),
    base: text("base").notNull(),
    mapping: jsonb("mapping").$type<MqttMapping>(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("mqtt_bindings_target_idx").on(t.siteId, t.preset, t.prefix, t.base), index("mqtt_bindings_device_idx").on(t.deviceId)],
);

/**
 * Topics that arrived with no binding, so a person can adopt them in one step. Nothing of their
 * readings is stored: only what identifies them, a sample of the last payload, and counts.
 */
export const mqttDiscovered = pgTable(
  "mqtt_discovered",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    preset: text("preset").notNull(),
    prefix: text("prefix").notNull().default(""),
    base: text("base").notNull(),
    /** The last topic it arrived on, and the start of that payload. */
    topic: text("topic").notNull(),
    sample: text("sample").notNull(),
    messages: integer("messages").notNull().default(0),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex("mqtt_discovered_target_idx").on(t.siteId, t.preset, t.prefix, t.base), index("mqtt_discovered_site_seen_idx").on(t.siteId, t.lastSeenAt)],
);

/**
 * The delivery journal: for a message whose payload carries no time of its own, the batch id and
 * time it was stored under, keyed by the MQTT session and packet id that brought it. Written before
 * its readings go to ingest, so a message the broker delivers again (DUP, same packet id, after a
 * crash between making them durable and the PUBACK) is recognised and not stored twice. A packet id is
 * reused by the broker only after its PUBACK, so one row per (session, packet id) is enough.
 */
export const mqttDeliveries = pgTable(
  "mqtt_deliveries",
  {
    session: text("session").notNull(),
    messageId: integer("message_id").notNull(),
    /** SHA-256 of topic and payload: a redelivery carries the same message. */
    digest: text("digest").notNull(),
    batchId: text("batch_id").notNull(),
    /** Epoch ms the readings were stored at. */
    ts: bigint("ts", { mode: "number" }).notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.session, t.messageId] }), index("mqtt_deliveries_received_idx").on(t.receivedAt)],
);

/**
 * What a device last said about itself through its tool's presence topic (Tasmota LWT, Zigbee2MQTT
 * availability, ESPHome status): the offline rules raise "offline" on an explicit "offline"
 * without waiting for its reports to go stale.
 */
export const devicePresence = pgTable("device_presence", {
  deviceId: uuid("device_id")
    .primaryKey()
    .references(() => devices.id, { onDelete: "cascade" }),
  /** "online" or "offline". */
  state: text("state").notNull(),
  changedAt: timestamp("changed_at", { withTimezone: true }).notNull(),
});
