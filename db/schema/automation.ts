import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { AutomationAction } from "../../shared/schemas/automation";
import { users } from "./accounts";
import { commands } from "./commands";
import { waterings } from "./care";
import { devices, sensors } from "./devices";
import { plants } from "./plants";
import { sites } from "./sites";

export const ruleKind = pgEnum("automation_rule_kind", ["threshold", "aggregate", "offline", "battery", "daily_light"]);
export const ruleComparison = pgEnum("automation_rule_comparison", ["below", "above"]);
export const ruleThresholdFrom = pgEnum("automation_threshold_from", ["value", "plant_min", "plant_max"]);
export const ruleAggregate = pgEnum("automation_aggregate", ["avg", "min", "max"]);

/**
 * A rule of a site, on one target (a plant, a sensor or a device):
 * - threshold: each committed reading of the target's sensors of `metric` against a threshold;
 * - aggregate: avg/min/max of the last `windowMinutes` (ClickHouse) against a threshold, on each tick;
 * - offline: no report within `staleFactor` × the device's expected report interval;
 * - battery: the battery's projected time to empty below `batteryDays`;
 * - daily_light: the daily light integral of the last whole local day (mol/m²/d), once a day.
 * Exactly one of plantId / sensorId / deviceId is set (the target). `builtIn` names the default
 * rule a plant is watched by (server/rules/built-in.ts), e.g. "soil_moisture.low"; null for a
 * rule a person made. One of each per plant (a unique index), so concurrent servers create it once.
 */
export const automationRules = pgTable(
  "automation_rules",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: ruleKind("kind").notNull(),
    plantId: uuid("plant_id").references(() => plants.id, { onDelete: "cascade" }),
    sensorId: uuid("sensor_id").references(() => sensors.id, { onDelete: "cascade" }),
    deviceId: uuid("device_id").references(() => devices.id, { onDelete: "cascade" }),
    metric: text("metric"),
    comparison: ruleComparison("comparison"),
    thresholdFrom: ruleThresholdFrom("threshold_from"),
    threshold: doublePrecision("threshold"),
    /** Clears only once the value is past threshold ± band (on the safe side). */
    hysteresis: doublePrecision("hysteresis").notNull().default(0),
    /** The condition must hold this long (by reading time) before the rule fires. */
    minDurationSeconds: integer("min_duration_seconds").notNull().default(0),
    aggregate: ruleAggregate("aggregate"),
    windowMinutes: integer("window_minutes"),
    staleFactor: doublePrecision("stale_factor"),
    batteryDays: doublePrecision("battery_days"),
    actions: jsonb("actions").$type<AutomationAction[]>().notNull(),
    enabled: boolean("enabled").notNull().default(true),
    builtIn: text("built_in"),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("automation_rules_site_idx").on(t.siteId),
    uniqueIndex("automation_rules_built_in_idx").on(t.plantId, t.builtIn).where(sql`${t.builtIn} is not null`),
    check(
      "automation_rules_one_target",
      sql`(case when ${t.plantId} is null then 0 else 1 end) + (case when ${t.sensorId} is null then 0 else 1 end) + (case when ${t.deviceId} is null then 0 else 1 end) = 1`,
    ),
  ],
);

export const ruleStatus = pgEnum("automation_rule_status", ["clear", "pending", "firing"]);

/**
 * Where a rule stands for one subject (a sensor or a device), persisted so a restart remembers
 * a condition that has been pending for a while or is firing. `version` guards concurrent
 * evaluations (two servers): a write that lost the race is retried on fresh state.
 */
export const automationRuleStates = pgTable(
  "automation_rule_states",
  {
    ruleId: uuid("rule_id")
      .notNull()
      .references(() => automationRules.id, { onDelete: "cascade" }),
    subject: text("subject").notNull(),
    status: ruleStatus("status").notNull(),
    pendingSince: timestamp("pending_since", { withTimezone: true }),
    /** Time of the last sample evaluated (a reading's ts, or the tick): older readings are ignored. */
    sampleAt: timestamp("sample_at", { withTimezone: true }),
    lastValue: doublePrecision("last_value"),
    /** How often the rule fired for this subject: part of its commands' idempotency keys. */
    firings: integer("firings").notNull().default(0),
    changedAt: timestamp("changed_at", { withTimezone: true }).notNull(),
    version: integer("version").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.subject] })],
);

export const missedRunPolicy = pgEnum("automation_missed_run_policy", ["skip", "catch_up"]);

/**
 * Time-based actions: an RRULE from `startsAt` in the site's time zone. `nextRunAt` is claimed
 * atomically by the server that runs it, so a run happens once however many servers tick.
 */
export const automationSchedules = pgTable(
  "automation_schedules",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    plantId: uuid("plant_id").references(() => plants.id, { onDelete: "cascade" }),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    rrule: text("rrule").notNull(),
    missedRunPolicy: missedRunPolicy("missed_run_policy").notNull().default("skip"),
    actions: jsonb("actions").$type<AutomationAction[]>().notNull(),
    enabled: boolean("enabled").notNull().default(true),
    lastRunAt: timestamp("last_run_at", { withTimezone: true }),
    nextRunAt: timestamp("next_run_at", { withTimezone: true }),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("automation_schedules_site_idx").on(t.siteId), index("automation_schedules_next_run_idx").on(t.nextRunAt)],
);

export const pausedBy = pgEnum("watering_paused_by", ["user", "engine"]);

/**
 * Safe watering per plant: limits every automatic pump command must pass, and the pause of
 * automatic watering: set by the engine when watering did not raise soil moisture, or by a person
 * (with a reason, and optionally until when). A plant without a row uses the defaults.
 */
export const wateringSafety = pgTable("watering_safety", {
  plantId: uuid("plant_id")
    .primaryKey()
    .references(() => plants.id, { onDelete: "cascade" }),
  siteId: uuid("site_id")
    .notNull()
    .references(() => sites.id, { onDelete: "cascade" }),
  cooldownMinutes: integer("cooldown_minutes").notNull(),
  dailyVolumeCapMl: doublePrecision("daily_volume_cap_ml"),
  riseWindowMinutes: integer("rise_window_minutes").notNull(),
  minRise: doublePrecision("min_rise").notNull(),
  /** A rise of soil moisture at least this big with no watering of ours is recorded as "detected". */
  detectJump: doublePrecision("detect_jump").notNull(),
  autoWateringPaused: boolean("auto_watering_paused").notNull().default(false),
  pausedReason: text("paused_reason"),
  pausedAt: timestamp("paused_at", { withTimezone: true }),
  pausedBy: pausedBy("paused_by"),
  pausedByUser: uuid("paused_by_user").references(() => users.id, { onDelete: "set null" }),
  /** A pause with an end lifts itself then; null: until someone resumes. */
  pausedUntil: timestamp("paused_until", { withTimezone: true }),
  /** Readings up to here were scanned for uncommanded waterings. */
  detectionScannedUntil: timestamp("detection_scanned_until", { withTimezone: true }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
});

export const wateringCheckStatus = pgEnum("watering_check_status", ["waiting", "rose", "did_not_rise", "command_failed"]);

/** An automatic watering waiting for soil moisture to show it worked. */
export const wateringChecks = pgTable(
  "watering_checks",
  {
    wateringId: uuid("watering_id")
      .primaryKey()
      .references(() => waterings.id, { onDelete: "cascade" }),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    plantId: uuid("plant_id")
      .notNull()
      .references(() => plants.id, { onDelete: "cascade" }),
    commandId: uuid("command_id")
      .notNull()
      .references(() => commands.id, { onDelete: "cascade" }),
    moistureBefore: doublePrecision("moisture_before"),
    status: wateringCheckStatus("status").notNull().default("waiting"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    checkedAt: timestamp("checked_at", { withTimezone: true }),
  },
  (t) => [index("watering_checks_status_idx").on(t.status)],
);

export const automationEvent = pgEnum("automation_event", ["fired", "cleared", "action", "skipped", "failed", "paused", "resumed", "detected"]);

/** Everything the automation did and why, per site and plant: what a person reads to trust it. */
export const automationLog = pgTable(
  "automation_log",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    ruleId: uuid("rule_id").references(() => automationRules.id, { onDelete: "set null" }),
    scheduleId: uuid("schedule_id").references(() => automationSchedules.id, { onDelete: "set null" }),
    plantId: uuid("plant_id").references(() => plants.id, { onDelete: "set null" }),
    subject: text("subject"),
    event: automationEvent("event").notNull(),
    message: text("message").notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("automation_log_site_at_idx").on(t.siteId, t.at),
    index("automation_log_plant_at_idx").on(t.plantId, t.at),
  ],
);
