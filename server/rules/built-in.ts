import { and, asc, eq, inArray, isNotNull, isNull, or } from "drizzle-orm";
import type { Db } from "../../db/client";
import { automationRules, plants, sensors, sites, species } from "../../db/schema";
import type { Metric } from "../../shared/metrics";
import type { AlertSeverity } from "../../shared/schemas/alerts";
import type { AutomationAction, RuleKind } from "../../shared/schemas/automation";
import { DLI_UNIT, METRIC_LABELS } from "../../shared/schemas/plant-status";
import { effectiveThresholds, type ThresholdsInForce } from "../../shared/thresholds";
import { resolveRuleAlerts } from "./rule-alerts";

/**
 * Built-in watching: every living plant with sensors is watched by default rules derived from its
 * ranges in force, without anyone writing a rule. They are ordinary rows of `automation_rules`
 * (marked by `built_in`, the key below), listed, editable and judged like any rule, and the
 * thresholds come from the plant's range (`plant_min` / `plant_max`), so they follow the plant's
 * overrides and species as those change.
 *
 * Which rules a plant should have is decided here, from Postgres, by `watchPlants`, called in the
 * transaction of every write that can change the answer: a sensor assigned, unassigned, created
 * on a plant or given another metric; a plant created, changed (ranges, species), archived or
 * restored; a rule a person made, changed or deleted (a person's own rule for the same plant,
 * metric and direction replaces the built-in one, which comes back if that rule goes); the site's
 * switch. It reads the plant's committed state while holding the plant's row lock, so two writes
 * on two servers decide one after the other, and the unique index on (plant, built_in) makes a
 * repeated creation a no-op.
 *
 * A built-in rule switched off (`rules.setEnabled`) stays off; one that is no longer wanted (the
 * last sensor of its metric unassigned, the bound gone, the plant archived, the site's switch off,
 * a person's rule for the same thing) is deleted and its open alert resolved.
 */

/**
 * Per metric: the band a value must come back past to clear (so a signal hovering at the bound
 * does not flap), how long a breach must hold before it alerts, and how serious each side is.
 * - soil moisture 3 points, 30 min: capacitive probes jitter by 1–2 points and a reading can
 *   glitch once; soil dries over days, so waiting half an hour costs nothing, and watering jumps
 *   far past the band.
 * - temperature 1 °C, 15 min: a door opened or a patch of sun moves the air for minutes, not a
 *   quarter of an hour; cold and heat harm quickly, hence warnings on both sides.
 * - humidity 5 %RH, 30 min: showers, misting and airing swing it by more than 5 points briefly.
 * - EC 0.2 mS/cm, pH 0.2, 1 h: nutrient solutions drift slowly; probes are noisy after a top-up.
 * - water level 3 points, 10 min: the reservoir matters for the pump, so low is a warning.
 * A metric not listed (a range added later) gets a band of 5 % of its range and 30 min.
 */
export const BUILT_IN_TUNING: Partial<Record<Metric, { hysteresis: number; minDurationSeconds: number; low: AlertSeverity; high: AlertSeverity }>> = {
  soil_moisture: { hysteresis: 3, minDurationSeconds: 30 * 60, low: "warning", high: "info" },
  temperature: { hysteresis: 1, minDurationSeconds: 15 * 60, low: "warning", high: "warning" },
  humidity: { hysteresis: 5, minDurationSeconds: 30 * 60, low: "info", high: "info" },
  ec: { hysteresis: 0.2, minDurationSeconds: 60 * 60, low: "info", high: "info" },
  ph: { hysteresis: 0.2, minDurationSeconds: 60 * 60, low: "info", high: "info" },
  water_level: { hysteresis: 3, minDurationSeconds: 10 * 60, low: "warning", high: "info" },
};
const FALLBACK_BAND_SHARE = 0.05;
const FALLBACK_MIN_DURATION_SECONDS = 30 * 60;

/**
 * Daily light integral, judged once per local day on the day just ended: a band of 0.5 mol/m²/d,
 * and two days in a row out of range before it alerts (20 h between the two day-end samples, so
 * a 23-hour day of a daylight-saving change counts too): one dull day is weather, two are a place.
 */
export const DLI_TUNING = { hysteresis: 0.5, minDurationSeconds: 20 * 3600 };
/** Offline: a third report missed (one retry and one slow batch are normal), as the offline rule's default. */
export const OFFLINE_STALE_FACTOR = 3;
/** Battery: warn when projected empty within a week; clear when two more days are left than that. */
export const BATTERY_TUNING = { batteryDays: 7, hysteresis: 2 };

/** The band a value of `metric` must come back past to clear, for a range in force. */
export function builtInHysteresis(metric: string, range: { min: number | null; max: number | null }): number {
  const tuned = BUILT_IN_TUNING[metric as Metric];
  if (tuned) return tuned.hysteresis;
  return range.min !== null && range.max !== null ? Math.round((range.max - range.min) * FALLBACK_BAND_SHARE * 1000) / 1000 : 0;
}

/** One built-in rule as it is created (a person may change it afterwards, except what it watches). */
export interface BuiltInRule {
  key: string;
  name: string;
  kind: RuleKind;
  metric: string | null;
  comparison: "below" | "above" | null;
  thresholdFrom: "plant_min" | "plant_max" | null;
  hysteresis: number;
  minDurationSeconds: number;
  staleFactor: number | null;
  batteryDays: number | null;
  actions: AutomationAction[];
}

const labelOf = (metric: string) => METRIC_LABELS[metric as Metric] ?? metric;

/** The built-in rules a living plant should have: from the metrics its sensors measure and its ranges in force. */
export function builtInRulesFor(metrics: ReadonlySet<string>, ranges: ThresholdsInForce, dli: { min: number | null; max: number | null }): BuiltInRule[] {
  const rules: BuiltInRule[] = [];
  if (metrics.size === 0) return rules;
  const alert = (severity: AlertSeverity, title: string, message: string): AutomationAction[] => [{ type: "alert", severity, title, message }];
  for (const [metric, range] of Object.entries(ranges) as [string, ThresholdsInForce[keyof ThresholdsInForce]][]) {
    // Light is judged by the day's integral below, not by the lux of a moment (every night is dark).
    if (metric === "light" || !metrics.has(metric)) continue;
    const label = labelOf(metric);
    const tuned = BUILT_IN_TUNING[metric as Metric];
    const hysteresis = builtInHysteresis(metric, { min: range.min.value, max: range.max.value });
    const minDurationSeconds = tuned?.minDurationSeconds ?? FALLBACK_MIN_DURATION_SECONDS;
    for (const side of ["min", "max"] as const) {
      if (range[side].value === null) continue;
      const low = side === "min";
      rules.push({
        key: `${metric}.${low ? "low" : "high"}`,
        name: `Built-in: ${label} ${low ? "low" : "high"}`,
        kind: "threshold",
        metric,
        comparison: low ? "below" : "above",
        thresholdFrom: low ? "plant_min" : "plant_max",
        hysteresis,
        minDurationSeconds,
        staleFactor: null,
        batteryDays: null,
        actions: alert(
          (low ? tuned?.low : tuned?.high) ?? "info",
          `{plant}: ${label} ${low ? "low" : "high"}`,
          `${label} {value} {unit}, ${low ? "below" : "above"} {threshold} {unit} ({sensor})`,
        ),
      });
    }
  }
  if (metrics.has("light")) {
    for (const side of ["min", "max"] as const) {
      if (dli[side] === null) continue;
      const low = side === "min";
      rules.push({
        key: `light.dli_${low ? "low" : "high"}`,
        name: `Built-in: ${low ? "too little" : "too much"} light`,
        kind: "daily_light",
        metric: "light",
        comparison: low ? "below" : "above",
        thresholdFrom: low ? "plant_min" : "plant_max",
        ...DLI_TUNING,
        staleFactor: null,
        batteryDays: null,
        actions: alert(
          "info",
          `{plant}: ${low ? "too little" : "too much"} light`,
          `daily light integral {value} ${DLI_UNIT}, ${low ? "below" : "above"} {threshold} ${DLI_UNIT}, two days in a row`,
        ),
      });
    }
  }
  rules.push({
    key: "offline",
    name: "Built-in: device offline",
    kind: "offline",
    metric: null,
    comparison: null,
    thresholdFrom: null,
    hysteresis: 0,
    minDurationSeconds: 0,
    staleFactor: OFFLINE_STALE_FACTOR,
    batteryDays: null,
    actions: alert("warning", "{plant}: {device} is offline", "{device} has not reported for {value} s"),
  });
  rules.push({
    key: "battery",
    name: "Built-in: battery low",
    kind: "battery",
    metric: null,
    comparison: null,
    thresholdFrom: null,
    hysteresis: BATTERY_TUNING.hysteresis,
    minDurationSeconds: 0,
    staleFactor: null,
    batteryDays: BATTERY_TUNING.batteryDays,
    actions: alert("warning", "{plant}: {device} battery low", "the battery of {device} is projected to run out in {value} days"),
  });
  return rules;
}

interface WatchingRule {
  kind: RuleKind;
  metric: string | null;
  comparison: "below" | "above" | null;
}

/** Whether a person's rule on the plant already watches what a built-in rule would. */
export function replacedBy(builtIn: Pick<BuiltInRule, "kind" | "metric" | "comparison">, own: WatchingRule): boolean {
  if (builtIn.kind === "threshold") return (own.kind === "threshold" || own.kind === "aggregate") && own.metric === builtIn.metric && own.comparison === builtIn.comparison;
  if (builtIn.kind === "daily_light") return own.kind === "daily_light" && own.comparison === builtIn.comparison;
  return own.kind === builtIn.kind;
}

/**
 * Brings the built-in rules of these plants (of this site) in line with what they should be now.
 * Idempotent; call it in the transaction of the write that may change the answer, after the write.
 */
export async function watchPlants(db: Db, siteId: string, plantIds: readonly (string | null | undefined)[], now: Date): Promise<void> {
  // One order for the row locks, so two writers touching the same plants cannot deadlock.
  const ids = [...new Set(plantIds.filter((id): id is string => Boolean(id)))].sort();
  if (ids.length === 0) return;
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    for (const plantId of ids) await watchPlant(tx, siteId, plantId, now);
  });
}

async function watchPlant(tx: Db, siteId: string, plantId: string, now: Date): Promise<void> {
  // NO KEY UPDATE, not UPDATE: the write this runs after (a sensor assigned, a rule inserted)
  // already holds a KEY SHARE lock on the plant through its foreign key, and so may another such
  // write; FOR UPDATE would wait for each other's KEY SHARE and deadlock, NO KEY UPDATE only
  // waits for the other decision.
  const [locked] = await tx
    .select({ id: plants.id })
    .from(plants)
    .where(and(eq(plants.id, plantId), eq(plants.siteId, siteId)))
    .for("no key update");
  if (!locked) return;
  const [[row], [site], existing, plantSensors] = await Promise.all([
    tx.select({ plant: plants, species }).from(plants).leftJoin(species, eq(species.id, plants.speciesId)).where(eq(plants.id, plantId)),
    tx.select({ builtInRules: sites.builtInRules }).from(sites).where(eq(sites.id, siteId)),
    tx
      .select({ id: automationRules.id, builtIn: automationRules.builtIn })
      .from(automationRules)
      .where(and(eq(automationRules.plantId, plantId), isNotNull(automationRules.builtIn))),
    tx.select({ id: sensors.id, metric: sensors.metric }).from(sensors).where(eq(sensors.plantId, plantId)),
  ]);
  let wanted: BuiltInRule[] = [];
  if (row && site?.builtInRules && row.plant.archivedAt === null && plantSensors.length > 0) {
    const own = await tx
      .select({ kind: automationRules.kind, metric: automationRules.metric, comparison: automationRules.comparison })
      .from(automationRules)
      .where(
        and(
          eq(automationRules.siteId, siteId),
          isNull(automationRules.builtIn),
          or(
            eq(automationRules.plantId, plantId),
            inArray(
              automationRules.sensorId,
              plantSensors.map((s) => s.id),
            ),
          ),
        ),
      );
    const ranges = effectiveThresholds(row.plant.thresholdOverrides, row.species);
    const dli = { min: row.species?.dliMin ?? null, max: row.species?.dliMax ?? null };
    wanted = builtInRulesFor(new Set(plantSensors.map((s) => s.metric)), ranges, dli).filter((rule) => !own.some((o) => replacedBy(rule, o)));
  }
  const wantedKeys = new Set(wanted.map((r) => r.key));
  const have = new Set(existing.map((r) => r.builtIn));
  const missing = wanted.filter((r) => !have.has(r.key));
  if (missing.length > 0) {
    await tx
      .insert(automationRules)
      .values(
        missing.map((r) => ({
          siteId,
          name: r.name,
          kind: r.kind,
          plantId,
          metric: r.metric,
          comparison: r.comparison,
          thresholdFrom: r.thresholdFrom,
          hysteresis: r.hysteresis,
          minDurationSeconds: r.minDurationSeconds,
          staleFactor: r.staleFactor,
          batteryDays: r.batteryDays,
          actions: r.actions,
          builtIn: r.key,
          createdAt: now,
          updatedAt: now,
        })),
      )
      .onConflictDoNothing();
  }
  const unwanted = existing.filter((r) => !wantedKeys.has(r.builtIn!)).map((r) => r.id);
  if (unwanted.length > 0) {
    await resolveRuleAlerts(tx, siteId, unwanted, now);
    await tx.delete(automationRules).where(inArray(automationRules.id, unwanted));
  }
}

/** Every plant of the site, for the site's switch. */
export async function watchSite(db: Db, siteId: string, now: Date): Promise<void> {
  const rows = await db.select({ id: plants.id }).from(plants).where(eq(plants.siteId, siteId)).orderBy(asc(plants.id));
  await watchPlants(
    db,
    siteId,
    rows.map((r) => r.id),
    now,
  );
}

/** Built-in watching of the whole site on or off: off deletes every built-in rule (their alerts resolved), on creates them again. */
export async function setBuiltInWatching(db: Db, siteId: string, enabled: boolean, now: Date): Promise<{ enabled: boolean }> {
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    await tx.update(sites).set({ builtInRules: enabled }).where(eq(sites.id, siteId));
    await watchSite(tx, siteId, now);
  });
  return { enabled };
}
