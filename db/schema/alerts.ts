import { sql } from "drizzle-orm";
import { doublePrecision, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./accounts";
import { automationRules, ruleComparison } from "./automation";
import { devices, sensors } from "./devices";
import { plants } from "./plants";
import { sites } from "./sites";

export const alertSeverity = pgEnum("alert_severity", ["info", "warning", "critical"]);
export const alertStatus = pgEnum("alert_status", ["active", "acknowledged", "resolved"]);

/**
 * Alerts raised by rules. `dedupKey` (rule + subject) has at most one unresolved alert per site: a
 * condition that keeps firing bumps `occurrences` and `lastSeenAt` instead of piling up alerts.
 * An alert raised by a rule keeps its numbers: the rule, the metric, the value that triggered it
 * against which bound in which direction, the value when it opened and the latest while it is open.
 */
export const alerts = pgTable(
  "alerts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    rule: text("rule").notNull(),
    subject: text("subject").notNull(),
    dedupKey: text("dedup_key").notNull(),
    severity: alertSeverity("severity").notNull(),
    status: alertStatus("status").notNull().default("active"),
    title: text("title").notNull(),
    message: text("message"),
    plantId: uuid("plant_id").references(() => plants.id, { onDelete: "set null" }),
    deviceId: uuid("device_id").references(() => devices.id, { onDelete: "set null" }),
    sensorId: uuid("sensor_id").references(() => sensors.id, { onDelete: "set null" }),
    ruleId: uuid("rule_id").references(() => automationRules.id, { onDelete: "set null" }),
    metric: text("metric"),
    /** The value of the sample that fired (the latest firing, when it fired again while open). */
    triggeredValue: doublePrecision("triggered_value"),
    bound: doublePrecision("bound"),
    direction: ruleComparison("direction"),
    firstValue: doublePrecision("first_value"),
    /** The latest value judged while the alert was open; with a resolution by its rule, the value that cleared it. */
    lastValue: doublePrecision("last_value"),
    lastValueAt: timestamp("last_value_at", { withTimezone: true }),
    occurrences: integer("occurrences").notNull().default(1),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    acknowledgedBy: uuid("acknowledged_by").references(() => users.id, { onDelete: "set null" }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    resolvedBy: uuid("resolved_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("alerts_open_dedup_idx").on(t.siteId, t.dedupKey).where(sql`${t.status} <> 'resolved'`),
    index("alerts_site_created_idx").on(t.siteId, t.createdAt),
    index("alerts_site_plant_created_idx").on(t.siteId, t.plantId, t.createdAt),
  ],
);
