import { and, desc, eq, isNull } from "drizzle-orm";
import type { Db } from "../../db/client";
import { careTaskEvents, careTasks, species } from "../../db/schema";
import { DEFAULT_PPFD_PER_LUX } from "../../shared/schemas/analytics";
import { effectiveThresholds, type Bound } from "../../shared/thresholds";
import { fromWallClock, toWallClock } from "../../shared/zoned-time";
import { plantMetricsOf, type AnalyticsDeps } from "../analytics";
import { AppError } from "../platform";
import { requirePlant } from "../sites";
import { wateringSummaries } from "../watering";
import { createCareTask, updateCareTask } from "./tasks";

/**
 * A plant's care plan: what to do and when, from its species' needs and its own measurements.
 * Each line says what it is based on (`basis`): a measurement (with the sensors' figures), a fact
 * of the catalog or of the site's own species, the plant's own setting, or its history (the
 * watering ledger, completed care tasks). `applyCarePlan` turns the lines that recur (watering,
 * feeding, repotting) into care tasks, one per plant and line, so applying it again changes only
 * what changed.
 */

const DAY_MS = 86_400_000;
/** Days of measurements the light, temperature and humidity advice averages. */
const LIGHT_DAYS = 14;
const CLIMATE_DAYS = 7;
/** How far back the drying rate looks for the last watering. */
const DRYING_WINDOW_HOURS = 7 * 24;
/** A day counts for the light average only when light was measured through nearly all of it. */
const MIN_LIGHT_COVERAGE = 0.9;
const MIN_LIGHT_DAYS = 3;
/** Pots this wide or wider are repotted less often (top-dressed in between). */
const LARGE_POT_CM = 30;

export type CarePlanLineKind = "water" | "light" | "temperature" | "humidity" | "fertilize" | "repot";

export interface Basis {
  /** Where the fact comes from. */
  source: "measurement" | "species" | "plant" | "history";
  /** What it is, in words. */
  fact: string;
  value: number | null;
  unit: string | null;
}

export interface CarePlanLine {
  kind: CarePlanLineKind;
  /** ok: nothing to change; adjust: change something (the advice says what); due: do it now; unknown: not enough to judge. */
  status: "ok" | "adjust" | "due" | "unknown";
  advice: string;
  /** For recurring care: every how many days (repotting: months × 30.44, see `everyMonths`). */
  everyDays: number | null;
  everyMonths: number | null;
  /** When it is next due; null when nothing is scheduled. */
  nextDueAt: Date | null;
  basis: Basis[];
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const fromBound = (b: Bound): Basis["source"] => (b.source === "plant" ? "plant" : "species");
const mean = (values: number[]) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : null);

function startOfLocalDay(t: Date, timezone: string): Date {
  const wall = toWallClock(t, timezone);
  return fromWallClock(new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate())), timezone);
}

/** When the plant's last completed task of a kind was done (its completion). */
async function lastCompleted(db: Db, plantId: string, kind: "fertilize" | "repot"): Promise<Date | null> {
  const [row] = await db
    .select({ at: careTaskEvents.at })
    .from(careTaskEvents)
    .innerJoin(careTasks, eq(careTasks.id, careTaskEvents.taskId))
    .where(and(eq(careTasks.plantId, plantId), eq(careTasks.kind, kind), eq(careTaskEvents.action, "completed")))
    .orderBy(desc(careTaskEvents.at))
    .limit(1);
  return row?.at ?? null;
}

export async function carePlanOf(deps: AnalyticsDeps, siteId: string, input: { plantId: string; ppfdPerLux?: number | undefined }) {
  const { db, now } = deps;
  const plant = await requirePlant(db, siteId, input.plantId);
  const site = await deps.directory.site(siteId);
  if (!site) throw new AppError("NOT_FOUND", "site not found", { path: "siteId" });
  const speciesRow = plant.speciesId ? ((await db.select().from(species).where(eq(species.id, plant.speciesId)))[0] ?? null) : null;
  const thresholds = effectiveThresholds(plant.thresholdOverrides, speciesRow);
  const ppfdPerLux = input.ppfdPerLux ?? DEFAULT_PPFD_PER_LUX;
  // Whole local days only: today's would weigh a half-measured day like a whole one.
  const today = startOfLocalDay(now, site.timezone);
  const [metrics, summaries, lastFed, lastRepotTask] = await Promise.all([
    plantMetricsOf(deps, siteId, { plantId: plant.id, from: new Date(today.getTime() - LIGHT_DAYS * DAY_MS), to: today, ppfdPerLux, dryingWindowHours: DRYING_WINDOW_HOURS }),
    wateringSummaries(db, siteId, [plant.id]),
    lastCompleted(db, plant.id, "fertilize"),
    lastCompleted(db, plant.id, "repot"),
  ]);
  const watering = summaries.get(plant.id)!;
  const speciesName = speciesRow ? speciesRow.scientificName : null;
  const lines: CarePlanLine[] = [];

  // Watering: the interval in force, shortened when the soil dries faster than it assumes.
  {
    const interval = watering.intervalDays;
    const low = thresholds.soil_moisture.min;
    const basis: Basis[] = [];
    if (interval !== null) basis.push({ source: watering.intervalSource === "plant" ? "plant" : "species", fact: `watering interval${speciesName && watering.intervalSource === "species" ? ` of ${speciesName}` : ""}`, value: interval, unit: "days" });
    const drying = metrics.drying;
    let measuredDays: number | null = null;
    if (drying?.ratePerDay != null && drying.ratePerDay < 0 && low.value !== null && drying.startValue !== null) {
      const from = drying.startValue;
      measuredDays = Math.max(0, (from - low.value) / -drying.ratePerDay);
      basis.push(
        { source: "measurement", fact: `soil drying rate since the last watering (${drying.points} ten-minute means of the plant's soil sensors)`, value: round(drying.ratePerDay, 2), unit: "%/day" },
        { source: "measurement", fact: "soil moisture right after the last watering", value: round(from), unit: "%" },
        { source: fromBound(low), fact: "lower soil-moisture bound", value: low.value, unit: "%" },
      );
    }
    let every = interval;
    let status: CarePlanLine["status"] = interval === null ? "unknown" : "ok";
    let advice: string;
    if (measuredDays !== null && (interval === null || measuredDays < interval)) {
      every = Math.max(1, Math.floor(measuredDays));
      status = "adjust";
      const sooner = interval === null ? null : interval - every;
      advice =
        interval === null
          ? `Water every ${every} day${every === 1 ? "" : "s"}: the soil dries ${round(-drying!.ratePerDay!, 1)} %/day and reaches ${low.value} % ${round(measuredDays)} days after watering.`
          : `Water every ${every} day${every === 1 ? "" : "s"} instead of every ${interval}: ${sooner} day${sooner === 1 ? "" : "s"} sooner (${Math.round((sooner! / interval) * 100)} % shorter). The soil dries ${round(-drying!.ratePerDay!, 1)} %/day and reaches its lower bound of ${low.value} % ${round(measuredDays)} days after watering; the ${interval}-day interval assumes it lasts ${interval}.`;
    } else if (measuredDays !== null) {
      advice = `Water every ${interval} days: the soil stays above ${low.value} % for ${round(measuredDays)} days after watering at the measured ${round(-drying!.ratePerDay!, 1)} %/day, so the interval is safe; check the soil before watering.`;
    } else if (interval !== null) {
      advice = `Water every ${interval} days. No drying rate measured yet (a soil-moisture sensor and a few days of readings after a watering give one), so the plan follows the ${watering.intervalSource === "plant" ? "plant's own" : "species'"} interval.`;
    } else {
      advice = "No watering interval known: give the plant a species or its own interval, or a soil-moisture sensor.";
    }
    const last = watering.lastWateredAt;
    if (last) basis.push({ source: "history", fact: "last watered", value: last.getTime(), unit: "epoch ms" });
    let nextDueAt = every !== null ? (last ? new Date(last.getTime() + every * DAY_MS) : now) : null;
    // The soil reaching its lower bound sooner than the calendar says wins.
    if (drying?.dryBy != null && nextDueAt !== null && drying.dryBy < nextDueAt.getTime()) nextDueAt = new Date(drying.dryBy);
    if (nextDueAt && nextDueAt <= now && status === "ok") status = "due";
    lines.push({ kind: "water", status, advice, everyDays: every, everyMonths: null, nextDueAt, basis });
  }

  // Light: the daily light integral of fully measured days against the species' DLI range.
  {
    const days = metrics.days.filter((d) => d.dli !== null && d.lightCoverage >= MIN_LIGHT_COVERAGE);
    const dli = days.length >= MIN_LIGHT_DAYS ? mean(days.map((d) => d.dli!)) : null;
    const basis: Basis[] = [];
    const range = speciesRow ? { min: speciesRow.dliMin, max: speciesRow.dliMax } : null;
    if (range) basis.push({ source: "species", fact: `daily light integral range of ${speciesName}`, value: null, unit: `${range.min}–${range.max} mol/m²/day` });
    let status: CarePlanLine["status"] = "unknown";
    let advice: string;
    if (dli !== null) {
      basis.push({ source: "measurement", fact: `mean daily light integral of ${days.length} fully measured days (× ${ppfdPerLux} µmol/m²/s per lux)`, value: round(dli, 2), unit: "mol/m²/day" });
      if (!range) advice = `It gets ${round(dli)} mol/m²/day of light; give it a species to judge that against.`;
      else if (dli < range.min) {
        status = "adjust";
        advice = `Too little light: ${round(dli)} mol/m²/day on average, ${speciesName} needs at least ${range.min}. Move it closer to a window or add a grow light for about ${round(range.min - dli)} mol/m²/day more.`;
      } else if (dli > range.max) {
        status = "adjust";
        advice = `More light than it likes: ${round(dli)} mol/m²/day on average, ${speciesName} wants at most ${range.max}. Shade it from direct sun or move it back from the window.`;
      } else {
        status = "ok";
        advice = `Light is right: ${round(dli)} mol/m²/day on average, within ${range.min}–${range.max}.`;
      }
    } else {
      advice = range
        ? `No full days of light readings yet: ${speciesName} needs ${range.min}–${range.max} mol/m²/day (about ${speciesRow!.lightLuxMin}–${speciesRow!.lightLuxMax} lx in daylight). A light sensor at the plant would tell.`
        : "No light readings and no species: nothing to judge its light by.";
    }
    lines.push({ kind: "light", status, advice, everyDays: null, everyMonths: null, nextDueAt: null, basis });
  }

  // Temperature and humidity: recent daily means against the ranges in force.
  const climateDays = metrics.days.slice(-CLIMATE_DAYS);
  const climate = [
    { kind: "temperature", metric: "temperature", unit: "°C", low: "Too cold", high: "Too warm", raise: "move it to a warmer spot, away from draughts and cold glass", lower: "move it away from heaters and hot windows, or ventilate" },
    { kind: "humidity", metric: "humidity", unit: "%RH", low: "Air too dry", high: "Air too humid", raise: "group plants together, use a pebble tray or a humidifier", lower: "ventilate and let the soil surface dry between waterings" },
  ] as const;
  for (const c of climate) {
    const values = climateDays.map((d) => d.means[c.metric]).filter((v): v is number => v !== null);
    const recent = mean(values);
    const { min, max } = thresholds[c.metric];
    const basis: Basis[] = [];
    if (min.value !== null) basis.push({ source: fromBound(min), fact: `lower ${c.kind} bound`, value: min.value, unit: c.unit });
    if (max.value !== null) basis.push({ source: fromBound(max), fact: `upper ${c.kind} bound`, value: max.value, unit: c.unit });
    let status: CarePlanLine["status"] = "unknown";
    let advice: string;
    if (recent === null) advice = `No ${c.kind} readings in the last ${CLIMATE_DAYS} days${min.value !== null && max.value !== null ? `: it wants ${min.value}–${max.value} ${c.unit}` : ""}.`;
    else {
      basis.push({ source: "measurement", fact: `mean ${c.kind} of the last ${values.length} days`, value: round(recent), unit: c.unit });
      if (min.value !== null && recent < min.value) {
        status = "adjust";
        advice = `${c.low}: ${round(recent)} ${c.unit} on average, below ${min.value} ${c.unit}; ${c.raise}.`;
      } else if (max.value !== null && recent > max.value) {
        status = "adjust";
        advice = `${c.high}: ${round(recent)} ${c.unit} on average, above ${max.value} ${c.unit}; ${c.lower}.`;
      } else {
        status = min.value === null && max.value === null ? "unknown" : "ok";
        advice = `${c.kind === "temperature" ? "Temperature" : "Humidity"} is fine: ${round(recent)} ${c.unit} on average${min.value !== null && max.value !== null ? `, within ${min.value}–${max.value} ${c.unit}` : ""}.`;
      }
    }
    lines.push({ kind: c.kind, status, advice, everyDays: null, everyMonths: null, nextDueAt: null, basis });
  }

  // Feeding: the species' interval from the last feed; the root zone's EC, when measured, says feed now or hold off.
  {
    const interval = speciesRow?.fertilizeIntervalDays ?? null;
    const basis: Basis[] = [];
    if (interval !== null) basis.push({ source: "species", fact: `feeding interval of ${speciesName} in the growing season`, value: interval, unit: "days" });
    if (lastFed) basis.push({ source: "history", fact: "last fertilize task completed", value: lastFed.getTime(), unit: "epoch ms" });
    const ecValues = climateDays.map((d) => d.means.ec).filter((v): v is number => v !== null);
    const ec = mean(ecValues);
    const { min: ecMin, max: ecMax } = thresholds.ec;
    let nextDueAt = interval !== null ? (lastFed ? new Date(lastFed.getTime() + interval * DAY_MS) : now) : null;
    let status: CarePlanLine["status"] = interval === null ? "unknown" : nextDueAt! <= now ? "due" : "ok";
    let advice = interval === null ? "No feeding interval known for this plant's species." : `Feed every ${interval} days in the growing season${lastFed ? "" : " (no feed recorded yet: start now)"}.`;
    if (ec !== null) {
      basis.push({ source: "measurement", fact: `mean root-zone EC of the last ${ecValues.length} days`, value: round(ec, 2), unit: "mS/cm" });
      if (ecMin.value !== null) basis.push({ source: fromBound(ecMin), fact: "lower EC bound", value: ecMin.value, unit: "mS/cm" });
      if (ecMax.value !== null) basis.push({ source: fromBound(ecMax), fact: "upper EC bound", value: ecMax.value, unit: "mS/cm" });
      if (ecMax.value !== null && ec > ecMax.value) {
        status = "adjust";
        nextDueAt = interval !== null ? new Date(now.getTime() + interval * DAY_MS) : null;
        advice = `Hold off feeding: the root zone's EC is ${round(ec, 2)} mS/cm, above ${ecMax.value}; flush the pot with plain water and feed again in ${interval ?? "a few"} days.`;
      } else if (ecMin.value !== null && ec < ecMin.value) {
        status = "due";
        nextDueAt = now;
        advice = `Feed now: the root zone's EC is ${round(ec, 2)} mS/cm, below ${ecMin.value}${interval !== null ? `; then every ${interval} days in the growing season` : ""}.`;
      }
    }
    lines.push({ kind: "fertilize", status, advice, everyDays: interval, everyMonths: null, nextDueAt, basis });
  }

  // Repotting: the species' interval, longer for large pots, from the last repot if known.
  {
    const speciesMonths = speciesRow?.repotIntervalMonths ?? null;
    const large = plant.potSizeCm !== null && plant.potSizeCm >= LARGE_POT_CM;
    const months = speciesMonths !== null ? Math.round(speciesMonths * (large ? 1.5 : 1)) : null;
    const last = [plant.repottedAt, lastRepotTask].filter((d): d is Date => d !== null).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    const basis: Basis[] = [];
    if (speciesMonths !== null) basis.push({ source: "species", fact: `repotting interval of ${speciesName}`, value: speciesMonths, unit: "months" });
    if (plant.potSizeCm !== null) basis.push({ source: "plant", fact: `pot diameter${large ? ` (${LARGE_POT_CM} cm or more: half as long again between repottings; top-dress in between)` : ""}`, value: plant.potSizeCm, unit: "cm" });
    if (last) basis.push({ source: plant.repottedAt && last.getTime() === plant.repottedAt.getTime() ? "plant" : "history", fact: "last repotted", value: last.getTime(), unit: "epoch ms" });
    let nextDueAt: Date | null = null;
    let status: CarePlanLine["status"] = "unknown";
    let advice: string;
    if (months === null) advice = "No repotting interval known for this plant's species.";
    else if (!last) advice = `Repot every ${months} months. When it was last repotted is not known: check whether roots circle the pot or grow out of its holes, and record the date (plants.update repottedAt).`;
    else {
      const due = toWallClock(last, site.timezone);
      nextDueAt = fromWallClock(new Date(Date.UTC(due.getUTCFullYear(), due.getUTCMonth() + months, due.getUTCDate(), due.getUTCHours(), due.getUTCMinutes())), site.timezone);
      status = nextDueAt <= now ? "due" : "ok";
      advice = status === "due" ? `Repot now: the last repotting was more than ${months} months ago.` : `Repot every ${months} months; next in ${Math.ceil((nextDueAt.getTime() - now.getTime()) / (30.44 * DAY_MS))} months.`;
    }
    lines.push({ kind: "repot", status, advice, everyDays: null, everyMonths: months, nextDueAt, basis });
  }

  return { plantId: plant.id, generatedAt: now, timezone: site.timezone, species: speciesRow ? { id: speciesRow.id, scientificName: speciesRow.scientificName, siteId: speciesRow.siteId } : null, lines };
}

export type CarePlan = Awaited<ReturnType<typeof carePlanOf>>;

/** The task a recurring line becomes: its RRULE and title. */
function taskOf(line: CarePlanLine): { kind: "water" | "fertilize" | "repot"; rrule: string; title: string } | null {
  if (line.kind === "water" && line.everyDays) return { kind: "water", rrule: `FREQ=DAILY;INTERVAL=${line.everyDays}`, title: `Water (every ${line.everyDays} days)` };
  if (line.kind === "fertilize" && line.everyDays) return { kind: "fertilize", rrule: `FREQ=DAILY;INTERVAL=${line.everyDays}`, title: `Fertilize (every ${line.everyDays} days)` };
  if (line.kind === "repot" && line.everyMonths) return { kind: "repot", rrule: `FREQ=MONTHLY;INTERVAL=${line.everyMonths}`, title: `Repot (every ${line.everyMonths} months)` };
  return null;
}

export interface AppliedLine {
  line: "water" | "fertilize" | "repot";
  /** created: a new task; updated: the plan's task got the new schedule; unchanged: it already had it; kept: a task made by hand covers it. */
  outcome: "created" | "updated" | "unchanged" | "kept";
  taskId: string;
}

/**
 * Creates (or brings up to date) a care task for each recurring line of the plan: one task per
 * plant and line (`care_tasks.care_plan_line`, unique), so a second call creates nothing and a
 * changed interval updates the task made before. A task of the same kind made by hand is left as
 * it is and the line is not doubled.
 */
export async function applyCarePlan(deps: AnalyticsDeps, siteId: string, input: { plantId: string; ppfdPerLux?: number | undefined }, actor: { userId: string }) {
  const plan = await carePlanOf(deps, siteId, input);
  const { db, now } = deps;
  await requirePlant(db, siteId, input.plantId, { active: true });
  const open = await db
    .select()
    .from(careTasks)
    .where(and(eq(careTasks.plantId, plan.plantId), isNull(careTasks.finishedAt)));
  const applied: AppliedLine[] = [];
  for (const line of plan.lines) {
    const task = taskOf(line);
    if (!task) continue;
    const notes = `From the care plan: ${line.advice}`;
    const startsAt = line.nextDueAt && line.nextDueAt > now ? line.nextDueAt : now;
    const mine = open.find((t) => t.carePlanLine === task.kind);
    if (mine) {
      if (mine.rrule === task.rrule) {
        applied.push({ line: task.kind, outcome: "unchanged", taskId: mine.id });
      } else {
        const updated = await updateCareTask(db, siteId, { taskId: mine.id, title: task.title, notes, rrule: task.rrule, startsAt }, now);
        applied.push({ line: task.kind, outcome: "updated", taskId: updated.id });
      }
      continue;
    }
    const byHand = open.find((t) => t.kind === task.kind && t.carePlanLine === null);
    if (byHand) {
      applied.push({ line: task.kind, outcome: "kept", taskId: byHand.id });
      continue;
    }
    try {
      const created = await createCareTask(db, siteId, { plantId: plan.plantId, kind: task.kind, title: task.title, notes, startsAt, rrule: task.rrule, carePlanLine: task.kind }, { userId: actor.userId, now });
      applied.push({ line: task.kind, outcome: "created", taskId: created.id });
    } catch (error) {
      // Another call made it a moment ago (or a finished one holds the line): report that one.
      if (!(error instanceof AppError && error.code === "CONFLICT")) throw error;
      const [existing] = await db
        .select({ id: careTasks.id, finishedAt: careTasks.finishedAt })
        .from(careTasks)
        .where(and(eq(careTasks.plantId, plan.plantId), eq(careTasks.carePlanLine, task.kind)));
      if (!existing) throw error;
      if (existing.finishedAt === null) {
        applied.push({ line: task.kind, outcome: "unchanged", taskId: existing.id });
      } else {
        const revived = await updateCareTask(db, siteId, { taskId: existing.id, title: task.title, notes, rrule: task.rrule, startsAt }, now);
        applied.push({ line: task.kind, outcome: "updated", taskId: revived.id });
      }
    }
  }
  return { plan, tasks: applied };
}
