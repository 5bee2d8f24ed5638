import { doublePrecision, index, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./accounts";
import { commands } from "./commands";
import { plants } from "./plants";
import { sites } from "./sites";

export const careTaskKind = pgEnum("care_task_kind", ["water", "fertilize", "repot", "prune", "custom"]);

/**
 * A care reminder for a plant: one-off, or recurring by an RFC 5545 RRULE expanded in the site's
 * time zone from `startsAt`. `occurrenceAt` is the occurrence waiting to be done (null once the
 * task is finished); `dueAt` is when it is due, later than `occurrenceAt` while snoozed.
 */
export const careTasks = pgTable(
  "care_tasks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    plantId: uuid("plant_id")
      .notNull()
      .references(() => plants.id, { onDelete: "cascade" }),
    kind: careTaskKind("kind").notNull(),
    title: text("title").notNull(),
    notes: text("notes"),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    rrule: text("rrule"),
    occurrenceAt: timestamp("occurrence_at", { withTimezone: true }),
    dueAt: timestamp("due_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** The care-plan line ("water", "fertilize", "repot") this task was made from; null for tasks made by hand. */
    carePlanLine: text("care_plan_line"),
  },
  (t) => [
    index("care_tasks_site_due_idx").on(t.siteId, t.dueAt),
    index("care_tasks_plant_id_idx").on(t.plantId),
    // Applying a care plan twice cannot make a second task for the same line.
    uniqueIndex("care_tasks_plan_line_idx").on(t.plantId, t.carePlanLine),
  ],
);

export const careTaskAction = pgEnum("care_task_action", ["completed", "skipped", "snoozed"]);

/** What happened to each occurrence: the task's history. */
export const careTaskEvents = pgTable(
  "care_task_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    taskId: uuid("task_id")
      .notNull()
      .references(() => careTasks.id, { onDelete: "cascade" }),
    action: careTaskAction("action").notNull(),
    occurrenceAt: timestamp("occurrence_at", { withTimezone: true }).notNull(),
    snoozedUntil: timestamp("snoozed_until", { withTimezone: true }),
    note: text("note"),
    by: uuid("by").references(() => users.id, { onDelete: "set null" }),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [index("care_task_events_task_id_idx").on(t.taskId, t.at)],
);

export const wateringSource = pgEnum("watering_source", ["manual", "scheduled", "automatic", "detected"]);
export const wateringStatus = pgEnum("watering_status", ["pending", "in_progress", "completed", "failed"]);

/**
 * The watering ledger: every watering of a plant, whoever or whatever did it. "Last watered" is
 * the latest completed entry; pump commands keep their entry's status in step.
 */
export const waterings = pgTable(
  "waterings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    plantId: uuid("plant_id")
      .notNull()
      .references(() => plants.id, { onDelete: "cascade" }),
    source: wateringSource("source").notNull(),
    status: wateringStatus("status").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    volumeMl: doublePrecision("volume_ml"),
    durationSeconds: doublePrecision("duration_seconds"),
    moistureBefore: doublePrecision("moisture_before"),
    moistureAfter: doublePrecision("moisture_after"),
    notes: text("notes"),
    commandId: uuid("command_id").references(() => commands.id, { onDelete: "set null" }),
    careTaskId: uuid("care_task_id").references(() => careTasks.id, { onDelete: "set null" }),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("waterings_plant_started_idx").on(t.plantId, t.startedAt),
    index("waterings_site_created_idx").on(t.siteId, t.createdAt),
    index("waterings_command_id_idx").on(t.commandId),
  ],
);
