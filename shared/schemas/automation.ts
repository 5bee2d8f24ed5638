import { z } from "zod";
import { METRICS } from "../metrics";
import { uuidSchema } from "./accounts";
import { ALERT_SEVERITIES } from "./alerts";
import { rruleSchema } from "./care";
import { commandSchema } from "./commands";
import { dateInput } from "./dates";
import { nameSchema, pageInput } from "./common";

/**
 * Automation: rules (threshold, aggregate, offline, battery, daily light) and schedules, with the actions they
 * take, and the per-plant safe-watering settings. Templates may use {value}, {threshold},
 * {metric}, {unit}, {plant}, {sensor}, {device}, {rule}; they are rendered as plain text.
 */

export const RULE_KINDS = ["threshold", "aggregate", "offline", "battery", "daily_light"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const COMPARISONS = ["below", "above"] as const;
export const AGGREGATES = ["avg", "min", "max"] as const;
export const MISSED_RUN_POLICIES = ["skip", "catch_up"] as const;
export const AUTOMATION_EVENTS = ["fired", "cleared", "action", "skipped", "failed", "paused", "resumed", "detected"] as const;

const template = (max: number) => z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);

export const automationActionSchema = z.discriminatedUnion("type", [
  z
    .object({ type: z.literal("alert"), severity: z.enum(ALERT_SEVERITIES), title: template(200), message: template(1000).optional() })
    .strict(),
  z.object({ type: z.literal("command"), actuatorId: uuidSchema, command: commandSchema }).strict(),
  z
    .object({ type: z.literal("notify"), severity: z.enum(ALERT_SEVERITIES), title: template(200), message: template(1000).optional() })
    .strict(),
]);
export type AutomationAction = z.infer<typeof automationActionSchema>;
const actionsSchema = z.array(automationActionSchema).min(1, "give at least one action").max(10, "at most 10 actions");

export const ruleTargetSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("plant"), plantId: uuidSchema }).strict(),
  z.object({ type: z.literal("sensor"), sensorId: uuidSchema }).strict(),
  z.object({ type: z.literal("device"), deviceId: uuidSchema }).strict(),
]);
export type RuleTarget = z.infer<typeof ruleTargetSchema>;

/** A fixed number, or the bound of the plant's range in force (its override, else its species'). */
export const thresholdSchema = z.union([
  z.number().finite("must be a finite number"),
  z.object({ plantRange: z.enum(["min", "max"]) }).strict(),
]);

const ruleFields = {
  name: nameSchema,
  kind: z.enum(RULE_KINDS),
  target: ruleTargetSchema,
  metric: z.enum(METRICS).nullable().optional(),
  comparison: z.enum(COMPARISONS).nullable().optional(),
  threshold: thresholdSchema.nullable().optional(),
  hysteresis: z.number().min(0, "must be at least 0").max(1_000_000, "is too large").optional(),
  minDurationSeconds: z.number().int("must be a whole number").min(0, "must be at least 0").max(7 * 86_400, "must be at most 604800").optional(),
  aggregate: z.enum(AGGREGATES).nullable().optional(),
  windowMinutes: z.number().int("must be a whole number").min(1, "must be at least 1").max(7 * 1440, "must be at most 10080").nullable().optional(),
  staleFactor: z.number().min(1, "must be at least 1").max(100, "must be at most 100").nullable().optional(),
  batteryDays: z.number().positive("must be above 0").max(365, "must be at most 365").nullable().optional(),
  actions: actionsSchema,
  enabled: z.boolean().optional(),
};

export interface RuleShape {
  kind: RuleKind;
  target: RuleTarget;
  metric?: string | null | undefined;
  comparison?: string | null | undefined;
  threshold?: number | { plantRange: "min" | "max" } | null | undefined;
  aggregate?: string | null | undefined;
  windowMinutes?: number | null | undefined;
  batteryDays?: number | null | undefined;
}

/** What a rule of its kind needs, as field issues: used on create here and on the merged rule on update. */
export function ruleShapeIssues(rule: RuleShape): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const need = (path: keyof RuleShape, message: string) => {
    if (rule[path] === undefined || rule[path] === null) issues.push({ path, message });
  };
  if (rule.kind === "threshold" || rule.kind === "aggregate") {
    if (rule.target.type !== "sensor") need("metric", `a ${rule.kind} rule on a ${rule.target.type} needs the metric`);
    need("comparison", 'say "below" or "above"');
    need("threshold", "give a number or { plantRange: \"min\" | \"max\" }");
    if (rule.threshold !== null && typeof rule.threshold === "object" && rule.target.type !== "plant") {
      issues.push({ path: "threshold", message: "the plant's range needs a plant as target" });
    }
  }
  if (rule.kind === "daily_light") {
    // Always light: the day's integral of its lux readings, in mol/m²/d.
    if (rule.target.type === "device") issues.push({ path: "target", message: "a daily_light rule watches a plant's or a sensor's light" });
    if (rule.metric !== undefined && rule.metric !== null && rule.metric !== "light") issues.push({ path: "metric", message: 'a daily_light rule measures "light"' });
    need("comparison", 'say "below" or "above"');
    need("threshold", "give mol/m²/d or { plantRange: \"min\" | \"max\" } (the plant's daily light integral range)");
    if (rule.threshold !== null && typeof rule.threshold === "object" && rule.target.type !== "plant") {
      issues.push({ path: "threshold", message: "the plant's range needs a plant as target" });
    }
  }
  if (rule.kind === "aggregate") {
    need("aggregate", 'say "avg", "min" or "max"');
    need("windowMinutes", "how many minutes back the aggregate looks");
  }
  if (rule.kind === "battery") need("batteryDays", "warn when the battery is projected to be empty within this many days");
  return issues;
}

export const createRuleInput = z.object(ruleFields).superRefine((rule, ctx) => {
  for (const issue of ruleShapeIssues(rule)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
});
export const updateRuleInput = z.object(ruleFields).partial().extend({ ruleId: uuidSchema });
export const ruleIdInput = z.object({ ruleId: uuidSchema });
export const setEnabledRuleInput = z.object({ ruleId: uuidSchema, enabled: z.boolean() });
export const listRulesInput = pageInput.extend({
  plantId: uuidSchema.optional(),
  kind: z.enum(RULE_KINDS).optional(),
  /** true: only the built-in rules; false: only rules people made. */
  builtIn: z.boolean().optional(),
});
/** Built-in watching of the whole site on or off (server/rules/built-in.ts). */
export const setBuiltInRulesInput = z.object({ enabled: z.boolean() });

const scheduleFields = {
  name: nameSchema,
  plantId: uuidSchema.nullable().optional(),
  /** The first run; later runs keep its wall-clock time in the site's time zone. */
  startsAt: dateInput,
  rrule: rruleSchema,
  missedRunPolicy: z.enum(MISSED_RUN_POLICIES).optional(),
  actions: actionsSchema,
  enabled: z.boolean().optional(),
};
export const createScheduleInput = z.object(scheduleFields);
export const updateScheduleInput = z.object({
  scheduleId: uuidSchema,
  name: scheduleFields.name.optional(),
  plantId: scheduleFields.plantId,
  startsAt: scheduleFields.startsAt.optional(),
  rrule: scheduleFields.rrule.optional(),
  missedRunPolicy: scheduleFields.missedRunPolicy,
  actions: scheduleFields.actions.optional(),
  enabled: scheduleFields.enabled,
});
export const scheduleIdInput = z.object({ scheduleId: uuidSchema });
export const setEnabledScheduleInput = z.object({ scheduleId: uuidSchema, enabled: z.boolean() });
export const listSchedulesInput = pageInput.extend({ plantId: uuidSchema.optional() });
export const scheduleRunsInput = z.object({
  scheduleId: uuidSchema,
  from: dateInput,
  count: z.number().int("must be a whole number").min(1, "must be at least 1").max(100, "must be at most 100").default(10),
});

export const listAutomationLogInput = pageInput.extend({
  plantId: uuidSchema.optional(),
  ruleId: uuidSchema.optional(),
  scheduleId: uuidSchema.optional(),
  event: z.enum(AUTOMATION_EVENTS).optional(),
});

export const wateringSafetyInput = z.object({ plantId: uuidSchema });
/** A person pauses automatic watering of a plant: why, and optionally until when (it then resumes by itself). */
export const pauseWateringInput = z.object({
  plantId: uuidSchema,
  reason: z.string().trim().min(1, "must not be empty").max(500, "must be at most 500 characters"),
  until: dateInput.optional(),
});
export const updateWateringSafetyInput = z.object({
  plantId: uuidSchema,
  /** Minutes after any watering before automation may water again. */
  cooldownMinutes: z.number().int("must be a whole number").min(0, "must be at least 0").max(7 * 1440, "must be at most 10080").optional(),
  /** Automatic and scheduled watering per calendar day of the site; null: no cap. */
  dailyVolumeCapMl: z.number().positive("must be above 0").max(100_000, "must be at most 100000").nullable().optional(),
  /** How long after the pump ran soil moisture has to rise … */
  riseWindowMinutes: z.number().int("must be a whole number").min(1, "must be at least 1").max(1440, "must be at most 1440").optional(),
  /** … and by how many points (of %). */
  minRise: z.number().min(0, "must be at least 0").max(100, "must be at most 100").optional(),
  /** A jump of soil moisture this big with no watering of ours is recorded as a detected watering. */
  detectJump: z.number().min(1, "must be at least 1").max(100, "must be at most 100").optional(),
});
