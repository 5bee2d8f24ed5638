import { doublePrecision, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./accounts";
import { actuators, devices } from "./devices";
import { sites } from "./sites";

export const commandAction = pgEnum("command_action", ["pump", "switch"]);
export const commandStatus = pgEnum("command_status", ["pending", "sent", "acknowledged", "succeeded", "failed", "expired", "cancelled"]);

/**
 * Commands to actuators, fetched by their device over HTTP. pending → sent (fetched) →
 * acknowledged → succeeded / failed; pending or sent past `expiresAt` → expired; cancelled by a
 * person. The idempotency key makes a retried request queue one command, not two.
 */
export const commands = pgTable(
  "commands",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    deviceId: uuid("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    actuatorId: uuid("actuator_id")
      .notNull()
      .references(() => actuators.id, { onDelete: "cascade" }),
    idempotencyKey: text("idempotency_key").notNull(),
    action: commandAction("action").notNull(),
    /** switch: "on" / "off". */
    state: text("state"),
    /** pump: run time (given, or converted from ml); switch with "on": how long before off. */
    durationSeconds: doublePrecision("duration_seconds"),
    /** pump: the volume asked for, when given in ml. */
    volumeMl: doublePrecision("volume_ml"),
    /** pump: the actuator's limit at queueing time; the device stops by itself after it. */
    maxRunSeconds: integer("max_run_seconds"),
    status: commandStatus("status").notNull().default("pending"),
    detail: text("detail"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("commands_idempotency_idx").on(t.siteId, t.idempotencyKey),
    index("commands_device_status_idx").on(t.deviceId, t.status),
    index("commands_site_created_idx").on(t.siteId, t.createdAt),
  ],
);
