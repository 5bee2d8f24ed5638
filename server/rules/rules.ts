import { and, eq, inArray, isNotNull, isNull, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { actuators, automationRules, automationRuleStates, sensors, species } from "../../db/schema";
import { ruleShapeIssues, type AutomationAction, type RuleKind, type RuleTarget } from "../../shared/schemas/automation";
import { afterCursor, AppError, badInput, keysetOf, orderBy, pageOf } from "../platform";
import { requirePlant, requireSiteDevice, requireSiteSensor } from "../sites";
import { watchPlants } from "./built-in";
import { resolveRuleAlerts } from "./rule-alerts";
import { effectiveThresholds } from "../../shared/thresholds";
import { THRESHOLD_METRICS, type ThresholdMetric } from "../../shared/schemas/plants";

/**
 * Rules as people manage them. The engines read enabled rules from the site directory, which hears
 * of every change when it commits. A rule's state per subject is reset when its condition changes,
 * so it is judged afresh on the next sample. A person's rule for a plant's metric and direction
 * replaces the plant's built-in rule for it (./built-in.ts), in the same transaction.
 */

export type RuleRow = typeof automationRules.$inferSelect;

export interface RuleFields {
  name?: string | undefined;
  kind?: RuleKind | undefined;
  target?: RuleTarget | undefined;
  metric?: string | null | undefined;
  comparison?: "below" | "above" | null | undefined;
  threshold?: number | { plantRange: "min" | "max" } | null | undefined;
  hysteresis?: number | undefined;
  minDurationSeconds?: number | undefined;
  aggregate?: "avg" | "min" | "max" | null | undefined;
  windowMinutes?: number | null | undefined;
  staleFactor?: number | null | undefined;
  batteryDays?: number | null | undefined;
  actions?: AutomationAction[] | undefined;
  enabled?: boolean | undefined;
}

export const DEFAULT_STALE_FACTOR = 3;

export function targetOf(row: Pick<RuleRow, "plantId" | "sensorId" | "deviceId">): RuleTarget {
  if (row.plantId) return { type: "plant", plantId: row.plantId };
  if (row.sensorId) return { type: "sensor", sensorId: row.sensorId };
  return { type: "device", deviceId: row.deviceId! };
}

/** The API's view: the target and the threshold as they were given. */
export function ruleView(row: RuleRow) {
  const { plantId: _p, sensorId: _s, deviceId: _d, thresholdFrom, threshold, ...rest } = row;
  return {
    ...rest,
    target: targetOf(row),
    threshold: thresholdFrom === "plant_min" ? { plantRange: "min" as const } : thresholdFrom === "plant_max" ? { plantRange: "max" as const } : threshold,
  };
}
export type RuleView = ReturnType<typeof ruleView>;

/** Actuators named by command actions must be this site's, and fit the command. */
export async function checkActions(db: Db, siteId: string, actions: AutomationAction[]): Promise<void> {
  const ids = [...new Set(actions.flatMap((a) => (a.type === "command" ? [a.actuatorId] : [])))];
  if (ids.length === 0) return;
  const rows = await db
    .select({ id: actuators.id, kind: actuators.kind, flowRate: actuators.flowRateMlPerSecond })
    .from(actuators)
    .where(and(eq(actuators.siteId, siteId), inArray(actuators.id, ids)));
  const byId = new Map(rows.map((r) => [r.id, r]));
  actions.forEach((action, i) => {
    if (action.type !== "command") return;
    const actuator = byId.get(action.actuatorId);
    if (!actuator) throw new AppError("NOT_FOUND", "actuator not found", { path: `actions.${i}.actuatorId` });
    if ((action.command.action === "pump") !== (actuator.kind === "pump")) {
      throw badInput(`actions.${i}.command.action`, actuator.kind === "pump" ? 'a pump takes action "pump"' : `a ${actuator.kind} takes action "switch"`);
    }
    if (action.command.action === "pump" && action.command.ml !== undefined && !actuator.flowRate) {
      throw badInput(`actions.${i}.command.ml`, "this pump has no flow rate: set flowRateMlPerSecond to pump by volume");
    }
  });
}

async function resolveTarget(db: Db, siteId: string, target: RuleTarget) {
  if (target.type === "plant") {
    await requirePlant(db, siteId, target.plantId, { path: "target.plantId" });
    return { plantId: target.plantId, sensorId: null, deviceId: null, sensorMetric: null };
  }
  if (target.type === "sensor") {
    const sensor = await requireSiteSensor(db, siteId, target.sensorId, "target.sensorId");
    return { plantId: null, sensorId: sensor.id, deviceId: null, sensorMetric: sensor.metric };
  }
  await requireSiteDevice(db, siteId, target.deviceId, "target.deviceId");
  return { plantId: null, sensorId: null, deviceId: target.deviceId, sensorMetric: null };
}

/** The columns for a complete rule, validated as a whole (create, and the merged rule on update). */
async function columnsOf(db: Db, siteId: string, rule: RuleFields & { name: string; kind: RuleKind; target: RuleTarget; actions: AutomationAction[] }, now: Date) {
  const issue = ruleShapeIssues(rule)[0];
  if (issue) throw badInput(issue.path, issue.message);
  const target = await resolveTarget(db, siteId, rule.target);
  await checkActions(db, siteId, rule.actions);
  if (typeof rule.threshold === "object" && rule.threshold && target.plantId) {
    if (rule.kind === "daily_light") await checkDliRange(db, siteId, target.plantId, rule.threshold.plantRange);
    else await checkPlantRange(db, siteId, target.plantId, rule.metric ?? "", rule.threshold.plantRange, now);
  }
  const measures = rule.kind === "threshold" || rule.kind === "aggregate" || rule.kind === "daily_light";
  const threshold = rule.threshold ?? null;
  return {
    name: rule.name,
    kind: rule.kind,
    plantId: target.plantId,
    sensorId: target.sensorId,
    deviceId: target.deviceId,
    metric: rule.kind === "daily_light" ? "light" : measures ? (rule.metric ?? target.sensorMetric) : null,
    comparison: measures ? (rule.comparison ?? null) : null,
    thresholdFrom: measures ? (typeof threshold === "object" && threshold ? (threshold.plantRange === "min" ? "plant_min" : "plant_max") : "value") : null,
    threshold: measures && typeof threshold === "number" ? threshold : null,
    hysteresis: rule.hysteresis ?? 0,
    minDurationSeconds: rule.minDurationSeconds ?? 0,
    aggregate: rule.kind === "aggregate" ? (rule.aggregate ?? null) : null,
    windowMinutes: rule.kind === "aggregate" ? (rule.windowMinutes ?? null) : null,
    staleFactor: rule.kind === "offline" ? (rule.staleFactor ?? DEFAULT_STALE_FACTOR) : null,
    batteryDays: rule.kind === "battery" ? (rule.batteryDays ?? null) : null,
    actions: rule.actions,
    enabled: rule.enabled ?? true,
  } as const;
}

/** A daily light rule on the plant's range needs its species' daily light integral range. */
async function checkDliRange(db: Db, siteId: string, plantId: string, side: "min" | "max") {
  const plant = await requirePlant(db, siteId, plantId);
  const [speciesRow] = plant.speciesId ? await db.select().from(species).where(eq(species.id, plant.speciesId)) : [];
  if (!speciesRow) throw badInput("threshold", `the plant has no species, so no daily light integral ${side}: give a number (mol/m²/d)`);
}

/** A threshold from the plant's range needs that bound to exist, or the rule could never fire. */
async function checkPlantRange(db: Db, siteId: string, plantId: string, metric: string, side: "min" | "max", now: Date) {
  if (!(THRESHOLD_METRICS as readonly string[]).includes(metric)) {
    throw badInput("threshold", `plants have no range for ${metric}: give a number (ranges exist for ${THRESHOLD_METRICS.join(", ")})`);
  }
  const plant = await requirePlant(db, siteId, plantId);
  const [speciesRow] = plant.speciesId ? await db.select().from(species).where(eq(species.id, plant.speciesId)) : [];
  if (effectiveThresholds(plant.thresholdOverrides, speciesRow ?? null)[metric as ThresholdMetric][side].value === null) {
    throw badInput("threshold", `the plant has no ${metric} ${side} in force: set a threshold override on the plant or give a number`);
  }
}

export async function requireRule(db: Db, siteId: string, ruleId: string): Promise<RuleRow> {
  const [row] = await db
    .select()
    .from(automationRules)
    .where(and(eq(automationRules.id, ruleId), eq(automationRules.siteId, siteId)));
  if (!row) throw new AppError("NOT_FOUND", "rule not found", { path: "ruleId" });
  return row;
}

export async function createRule(
  db: Db,
  siteId: string,
  input: RuleFields & { name: string; kind: RuleKind; target: RuleTarget; actions: AutomationAction[] },
  actor: { userId: string; now: Date },
): Promise<RuleView> {
  const columns = await columnsOf(db, siteId, input, actor.now);
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    const [row] = await tx
      .insert(automationRules)
      .values({ ...columns, siteId, createdBy: actor.userId, createdAt: actor.now, updatedAt: actor.now })
      .returning();
    await watchPlants(tx, siteId, [await plantOfRule(tx, row!)], actor.now);
    return ruleView(row!);
  });
}

/** The plant a rule watches: its target plant, or its target sensor's plant. */
async function plantOfRule(db: Db, rule: Pick<RuleRow, "plantId" | "sensorId">): Promise<string | null> {
  if (rule.plantId || !rule.sensorId) return rule.plantId;
  const [sensor] = await db.select({ plantId: sensors.plantId }).from(sensors).where(eq(sensors.id, rule.sensorId));
  return sensor?.plantId ?? null;
}

/** What a built-in rule watches is what makes it built-in: its target, kind, metric and direction stay. */
function checkBuiltInIdentity(current: RuleRow, input: RuleFields) {
  if (!current.builtIn) return;
  const view = ruleView(current);
  const same: Record<string, boolean> = {
    kind: input.kind === undefined || input.kind === current.kind,
    target: input.target === undefined || JSON.stringify(input.target) === JSON.stringify(view.target),
    metric: input.metric === undefined || input.metric === current.metric,
    comparison: input.comparison === undefined || input.comparison === current.comparison,
  };
  const changed = Object.keys(same).find((k) => !same[k]);
  if (changed) {
    throw badInput(changed, `a built-in rule keeps what it watches (${current.builtIn}): make a rule of your own for something else`);
  }
}

export async function updateRule(db: Db, siteId: string, input: RuleFields & { ruleId: string }, now: Date): Promise<RuleView> {
  const current = await requireRule(db, siteId, input.ruleId);
  checkBuiltInIdentity(current, input);
  const view = ruleView(current);
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as RuleFields;
  const merged = {
    ...view,
    metric: current.metric,
    aggregate: current.aggregate,
    ...defined,
  };
  const columns = await columnsOf(db, siteId, merged, now);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(automationRules)
      .set({ ...columns, updatedAt: now })
      .where(eq(automationRules.id, current.id))
      .returning();
    // A changed condition is judged afresh; renaming or new actions keep the state.
    const conditionChanged = (Object.keys(columns) as (keyof typeof columns)[]).some(
      (k) => k !== "name" && k !== "actions" && JSON.stringify(columns[k]) !== JSON.stringify(current[k]),
    );
    if (conditionChanged) await tx.delete(automationRuleStates).where(eq(automationRuleStates.ruleId, current.id));
    if (conditionChanged || !row!.enabled) await resolveRuleAlerts(tx as unknown as Db, siteId, [current.id], now);
    // A person's rule that moved (or changed what it watches) may free or replace built-in ones.
    if (!current.builtIn) await watchPlants(tx as unknown as Db, siteId, [await plantOfRule(tx as unknown as Db, current), await plantOfRule(tx as unknown as Db, row!)], now);
    return ruleView(row!);
  });
}


export async function deleteRule(db: Db, siteId: string, ruleId: string, now: Date): Promise<void> {
  const current = await requireRule(db, siteId, ruleId);
  if (current.builtIn) {
    throw new AppError("CONFLICT", "a built-in rule cannot be deleted: switch it off with rules.setEnabled (it stays off), or switch built-in watching off for the site (rules.setBuiltIn)", {
      path: "ruleId",
    });
  }
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    const plantId = await plantOfRule(tx, current);
    await resolveRuleAlerts(tx, siteId, [current.id], now);
    await tx.delete(automationRules).where(eq(automationRules.id, current.id));
    // The plant's built-in rule for the same thing comes back.
    await watchPlants(tx, siteId, [plantId], now);
  });
}

export async function listRules(
  db: Db,
  siteId: string,
  input: { plantId?: string | undefined; kind?: RuleKind | undefined; builtIn?: boolean | undefined; cursor?: string | undefined; limit: number },
) {
  if (input.plantId) await requirePlant(db, siteId, input.plantId);
  const keys = keysetOf(automationRules.createdAt, automationRules.id);
  const conditions: (SQL | undefined)[] = [eq(automationRules.siteId, siteId), afterCursor(keys, input.cursor, "asc")];
  if (input.plantId) conditions.push(eq(automationRules.plantId, input.plantId));
  if (input.kind) conditions.push(eq(automationRules.kind, input.kind));
  if (input.builtIn !== undefined) conditions.push(input.builtIn ? isNotNull(automationRules.builtIn) : isNull(automationRules.builtIn));
  const rows = await db
    .select()
    .from(automationRules)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "asc"))
    .limit(input.limit + 1);
  const page = pageOf(rows, input.limit, (r) => ({ at: r.createdAt, id: r.id }));
  return { items: page.items.map(ruleView), nextCursor: page.nextCursor };
}

/** One rule with where it stands for each subject. */
export async function getRule(db: Db, siteId: string, ruleId: string) {
  const row = await requireRule(db, siteId, ruleId);
  const states = await db
    .select({
      subject: automationRuleStates.subject,
      status: automationRuleStates.status,
      pendingSince: automationRuleStates.pendingSince,
      lastValue: automationRuleStates.lastValue,
      sampleAt: automationRuleStates.sampleAt,
      firings: automationRuleStates.firings,
      changedAt: automationRuleStates.changedAt,
    })
    .from(automationRuleStates)
    .where(eq(automationRuleStates.ruleId, row.id));
  return { ...ruleView(row), states };
}
