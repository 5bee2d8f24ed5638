import { sql } from "drizzle-orm";
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./accounts";
import { sensors } from "./devices";
import { plants } from "./plants";
import { sites } from "./sites";

/**
 * Which plant a sensor measured, and when: one row per assignment, `[startedAt, endedAt)`; the open
 * row (endedAt null) is the current assignment, mirrored in `sensors.plant_id`. A plant's series,
 * charts, figures and export read a sensor's readings only inside its rows for that plant, so
 * moving a sensor moves only its later readings.
 */
export const sensorAssignments = pgTable(
  "sensor_assignments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    sensorId: uuid("sensor_id")
      .notNull()
      .references(() => sensors.id, { onDelete: "cascade" }),
    plantId: uuid("plant_id")
      .notNull()
      .references(() => plants.id, { onDelete: "cascade" }),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    assignedBy: uuid("assigned_by").references(() => users.id, { onDelete: "set null" }),
    endedBy: uuid("ended_by").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [
    index("sensor_assignments_sensor_idx").on(t.sensorId, t.startedAt),
    index("sensor_assignments_plant_idx").on(t.plantId, t.startedAt),
    index("sensor_assignments_site_idx").on(t.siteId),
    // At most one current assignment per sensor.
    uniqueIndex("sensor_assignments_open_idx").on(t.sensorId).where(sql`${t.endedAt} is null`),
    check("sensor_assignments_ordered", sql`${t.endedAt} is null or ${t.endedAt} >= ${t.startedAt}`),
  ],
);

/**
 * What a sensor measured before its current metric: one closed row per earlier (metric, unit),
 * `[startedAt, endedAt)`. The current metric is `sensors.metric`, in force since the latest row's
 * end (or always, for a sensor whose metric never changed). Readings keep the metric they were
 * taken under: analytics by metric read each sensor only inside its periods of that metric.
 */
export const sensorMetricPeriods = pgTable(
  "sensor_metric_periods",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    sensorId: uuid("sensor_id")
      .notNull()
      .references(() => sensors.id, { onDelete: "cascade" }),
    metric: text("metric").notNull(),
    unit: text("unit").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }).notNull(),
    changedBy: uuid("changed_by").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [
    index("sensor_metric_periods_sensor_idx").on(t.sensorId, t.endedAt),
    index("sensor_metric_periods_site_idx").on(t.siteId),
    check("sensor_metric_periods_ordered", sql`${t.endedAt} >= ${t.startedAt}`),
  ],
);
