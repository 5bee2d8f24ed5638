import { and, eq, isNotNull, isNull } from "drizzle-orm";
import type { Clickhouse } from "../../clickhouse/client";
import type { Db } from "../../db/client";
import { automationRules, plants, sensors } from "../../db/schema";
import { resolveAlertByKey } from "../alerts/alerts";
import type { EventHub, ReadingsCommitted } from "../events/hub";
import type { Logger } from "../logger";
import { runActions, type Notify } from "./actions";
import { projectedBatteryDays, type ConditionSpec, type Sample } from "./evaluate";
import { writeLog } from "./log";
import { aggregateBySensor, hourlyMeans, latestBySensor } from "./readings";
import { alertRuleOf, type RuleRow } from "./rules";
import { claimRun, dueSchedules, recurrenceOf, siteTimeZone, type ScheduleRow } from "./schedules";
import { conditionOf, devicesOfRule, sensorsOfRule, SiteModels, type SiteModel } from "./site-model";
import { advance, FRESH, loadStates, saveState } from "./state";
import { checkRises, detectWaterings } from "./watering";

/**
 * The automation engine. Two ways in:
 * - ingest's `readings.committed` event: threshold rules judge the readings just committed, after
 *   the device has its receipt (never on the ack path); per site one batch after the other, and the
 *   lag from commit to evaluation is measured;
 * - `tick(now)`, every `tickIntervalMs` (and called by tests with their clock): aggregate, offline
 *   and battery rules, due schedules, moisture-rise checks and detected waterings.
 * Everything that must happen once is claimed in Postgres, so several servers may run engines
 * against one database.
 */

export interface AutomationDeps {
  db: () => Db;
  clickhouse: () => Clickhouse;
  events: EventHub;
  log: Logger;
  now: () => Date;
  notify: Notify;
  /** 0: no timer (tests call tick themselves). */
  tickIntervalMs: number;
  /** How long a site's cached rules and sensors are trusted without an invalidation. */
  modelTtlMs?: number;
}

/** A run later than this after its time is "missed" (downtime), handled by the schedule's policy. */
export const MISSED_RUN_AFTER_MS = 5 * 60_000;
/** The battery trend is fitted over this much history unless the rule says otherwise. */
const BATTERY_WINDOW_MS = 7 * 86_400_000;
/** "Not draining" as a number of days, so a flat or charging battery clears the warning. */
const NOT_DRAINING_DAYS = 1e6;
const RACE_RETRIES = 5;

export interface LagStats {
  evaluatedBatches: number;
  lastLagMs: number | null;
  meanLagMs: number | null;
  maxLagMs: number | null;
}

export interface TickReport {
  rulesEvaluated: number;
  schedulesRun: number;
  checksSettled: number;
  wateringsDetected: number;
  errors: string[];
}

export class AutomationEngine {
  readonly models: SiteModels;
  #unsubscribe: (() => void)[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #chains = new Map<string, Promise<void>>();
  #ticking: Promise<TickReport> | undefined;
  #lag = { count: 0, sum: 0, max: 0, last: null as number | null };
  #stopped = false;
  /**
   * When this server last saw each device report (its clock). Devices' last_seen_at reaches
   * Postgres only every few seconds; without this, a tick right after a report could judge the
   * device by its old last-seen time and raise "offline" again just after the report cleared it.
   */
  #reports = new Map<string, number>();

  constructor(private readonly deps: AutomationDeps) {
    this.models = new SiteModels(deps.db, () => deps.now().getTime(), deps.modelTtlMs);
  }

  start(): void {
    this.#stopped = false;
    this.#unsubscribe.push(
      this.deps.events.on("readings.committed", (event) => this.#enqueue(event)),
      this.deps.events.on("automation.changed", ({ siteId }) => this.models.invalidate(siteId)),
    );
    if (this.deps.tickIntervalMs > 0) {
      this.#timer = setInterval(() => {
        void this.tick().catch((error) => this.deps.log.error({ err: error }, "automation tick failed"));
      }, this.deps.tickIntervalMs);
      this.#timer.unref?.();
    }
  }

  /** Stops listening and ticking, and waits for work in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.idle();
    await this.#ticking?.catch(() => {});
  }

  /** Resolves once every committed batch received so far has been evaluated. */
  async idle(): Promise<void> {
    // Listeners run on a microtask after the emit: let them enqueue first.
    await new Promise((resolve) => setTimeout(resolve, 0));
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  stats(): LagStats {
    const { count, sum, max, last } = this.#lag;
    return { evaluatedBatches: count, lastLagMs: last, meanLagMs: count ? Math.round(sum / count) : null, maxLagMs: count ? max : null };
  }

  #enqueue(event: ReadingsCommitted): void {
    if (this.#stopped) return;
    const previous = this.#chains.get(event.siteId) ?? Promise.resolve();
    const next: Promise<void> = previous
      .then(() => this.#evaluateCommitted(event))
      .catch((error) => this.deps.log.error({ err: error, siteId: event.siteId, batchId: event.batchId }, "automation: evaluating readings failed"))
      .finally(() => {
        if (this.#chains.get(event.siteId) === next) this.#chains.delete(event.siteId);
      });
    this.#chains.set(event.siteId, next);
  }

  async #evaluateCommitted(event: ReadingsCommitted): Promise<void> {
    this.#reports.set(event.deviceId, this.deps.now().getTime());
    const model = await this.models.get(event.siteId);
    const rules = model.rules.filter((r) => r.kind === "threshold" || r.kind === "offline");
    if (rules.length > 0) {
      const bySensor = new Map<string, Sample[]>();
      for (const r of event.readings()) {
        let list = bySensor.get(r.sensorId);
        if (!list) bySensor.set(r.sensorId, (list = []));
        list.push({ at: r.ts, value: r.value });
      }
      for (const list of bySensor.values()) list.sort((a, b) => a.at - b.at);
      const now = this.deps.now();
      for (const rule of rules) {
        if (rule.kind === "threshold") {
          const spec = conditionOf(model, rule);
          if (!spec) continue;
          for (const sensor of sensorsOfRule(model, rule)) {
            const samples = bySensor.get(sensor.id);
            if (samples) await this.#judge(model, rule, sensor.id, spec, samples, now);
          }
        } else {
          // A report clears "offline" at once rather than at the next tick.
          for (const subject of this.#offlineSubjects(model, rule)) {
            const reported = rule.sensorId ? bySensor.has(subject.id) : subject.deviceId === event.deviceId;
            if (reported) await this.#judge(model, rule, subject.id, subject.spec, [{ at: now.getTime(), value: 0 }], now);
          }
        }
      }
    }
    const lag = Date.now() - event.committedAt;
    this.#lag.count++;
    this.#lag.sum += lag;
    this.#lag.max = Math.max(this.#lag.max, lag);
    this.#lag.last = lag;
    this.deps.log.debug({ siteId: event.siteId, batchId: event.batchId, lagMs: lag }, "automation: batch evaluated");
  }

  /** Advances one rule for one subject through its samples and acts on each transition, once. */
  async #judge(model: SiteModel, rule: RuleRow, subject: string, spec: ConditionSpec, samples: Sample[], now: Date): Promise<number> {
    const db = this.deps.db();
    for (let attempt = 0; attempt < RACE_RETRIES; attempt++) {
      const read = (await loadStates(db, rule.id, [subject])).get(subject) ?? FRESH;
      const result = advance(spec, read, samples);
      if (!result.changed) return 0;
      if (!(await saveState(db, rule.id, subject, read, result.state, now))) continue;
      for (const { transition, sample } of result.transitions) await this.#act(model, rule, subject, spec, transition, sample, now);
      return result.transitions.length;
    }
    this.deps.log.warn({ ruleId: rule.id, subject }, "automation: state kept changing under us; giving up this evaluation");
    return 0;
  }

  async #act(model: SiteModel, rule: RuleRow, subject: string, spec: ConditionSpec, transition: "fired" | "cleared", sample: Sample, now: Date) {
    const db = this.deps.db();
    const sensor = model.sensors.get(subject);
    const device = model.devices.get(subject) ?? (sensor ? model.devices.get(sensor.deviceId) : undefined);
    const plantId = rule.plantId ?? sensor?.plantId ?? null;
    const plant = plantId ? model.plants.get(plantId) : undefined;
    const metric = rule.kind === "offline" ? "seconds since last report" : rule.kind === "battery" ? "days of battery left" : (rule.metric ?? sensor?.metric ?? "");
    const values = {
      value: sample.value,
      threshold: spec.threshold,
      metric,
      unit: rule.kind === "threshold" || rule.kind === "aggregate" ? (sensor?.unit ?? "") : rule.kind === "offline" ? "s" : "days",
      plant: plant?.name ?? null,
      sensor: sensor?.label ?? null,
      device: device?.name ?? null,
      rule: rule.name,
    };
    const base = { siteId: rule.siteId, ruleId: rule.id, plantId, subject };
    const alertRule = alertRuleOf(rule.id);
    if (transition === "cleared") {
      await writeLog(db, { ...base, event: "cleared", message: `${rule.name}: cleared (${metric} ${round(sample.value)})`, details: { value: sample.value, threshold: spec.threshold, at: sample.at } }, now);
      const resolved = await resolveAlertByKey(db, { siteId: rule.siteId, rule: alertRule, subject }, now);
      if (resolved) await writeLog(db, { ...base, event: "action", message: `alert resolved: ${resolved.title}`, details: { action: "resolve", alertId: resolved.id } }, now);
      return;
    }
    await writeLog(
      db,
      { ...base, event: "fired", message: `${rule.name}: ${metric} ${round(sample.value)} is ${spec.comparison} ${round(spec.threshold)}`, details: { value: sample.value, threshold: spec.threshold, at: sample.at } },
      now,
    );
    await runActions(
      {
        db,
        clickhouse: this.deps.clickhouse(),
        notify: this.deps.notify,
        siteId: rule.siteId,
        timeZone: model.timezone,
        ruleId: rule.id,
        plantId,
        alert: { rule: alertRule, subject, sensorId: sensor?.id ?? null, deviceId: device?.id ?? null },
        values,
        // One firing = one sample time: evaluating it again cannot queue a second command.
        idempotencyKey: `r:${rule.id}:${subject}:${sample.at}`,
        wateringSource: "automatic",
        source: `rule:${rule.id}`,
        now,
      },
      rule.actions,
    );
  }

  #offlineSubjects(model: SiteModel, rule: RuleRow): { id: string; deviceId: string; spec: ConditionSpec; since: Date }[] {
    const k = rule.staleFactor ?? 3;
    const specOf = (intervalSeconds: number): ConditionSpec => ({ comparison: "above", threshold: k * intervalSeconds, hysteresis: 0, minDurationMs: rule.minDurationSeconds * 1000 });
    if (rule.sensorId) {
      const sensor = model.sensors.get(rule.sensorId);
      const device = sensor && model.devices.get(sensor.deviceId);
      return sensor && device ? [{ id: sensor.id, deviceId: device.id, spec: specOf(device.expectedReportIntervalSeconds), since: sensor.createdAt }] : [];
    }
    return devicesOfRule(model, rule).map((d) => {
      const seen = Math.max(d.lastSeenAt?.getTime() ?? d.createdAt.getTime(), this.#reports.get(d.id) ?? 0);
      return { id: d.id, deviceId: d.id, spec: specOf(d.expectedReportIntervalSeconds), since: new Date(seen) };
    });
  }

  /** Scheduled work at `now`. Overlapping calls share one run. */
  tick(now: Date = this.deps.now()): Promise<TickReport> {
    this.#ticking ??= this.#tick(now).finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(now: Date): Promise<TickReport> {
    const db = this.deps.db();
    const ch = this.deps.clickhouse();
    const report: TickReport = { rulesEvaluated: 0, schedulesRun: 0, checksSettled: 0, wateringsDetected: 0, errors: [] };
    const attempt = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (error) {
        const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
        report.errors.push(message);
        this.deps.log.error({ err: error }, `automation tick: ${what} failed`);
      }
    };
    const ruleSites = await db
      .selectDistinct({ siteId: automationRules.siteId })
      .from(automationRules)
      .where(eq(automationRules.enabled, true));
    for (const { siteId } of ruleSites) {
      await attempt(`rules of site ${siteId}`, async () => {
        const model = await this.models.fresh(siteId);
        for (const rule of model.rules) {
          if (rule.kind === "threshold") continue;
          await attempt(`rule ${rule.id}`, async () => {
            report.rulesEvaluated++;
            await this.#tickRule(model, rule, now);
          });
        }
      });
    }
    await attempt("schedules", async () => {
      report.schedulesRun = await this.#runSchedules(now);
    });
    await attempt("moisture-rise checks", async () => {
      report.checksSettled = await checkRises(db, ch, now);
    });
    const soilSites = await db
      .selectDistinct({ siteId: sensors.siteId })
      .from(sensors)
      .innerJoin(plants, eq(plants.id, sensors.plantId))
      .where(and(eq(sensors.metric, "soil_moisture"), isNotNull(sensors.plantId), isNull(plants.archivedAt)));
    for (const { siteId } of soilSites) {
      await attempt(`detected waterings of site ${siteId}`, async () => {
        report.wateringsDetected += await detectWaterings(db, ch, siteId, now);
      });
    }
    return report;
  }

  async #tickRule(model: SiteModel, rule: RuleRow, now: Date): Promise<void> {
    const ch = this.deps.clickhouse();
    const at = now.getTime();
    if (rule.kind === "aggregate") {
      const spec = conditionOf(model, rule);
      if (!spec) return;
      const subjects = sensorsOfRule(model, rule);
      const values = await aggregateBySensor(ch, subjects.map((s) => s.id), rule.aggregate ?? "avg", at - (rule.windowMinutes ?? 30) * 60_000, at);
      for (const sensor of subjects) {
        const value = values.get(sensor.id);
        if (value !== undefined) await this.#judge(model, rule, sensor.id, spec, [{ at, value }], now);
      }
    } else if (rule.kind === "offline") {
      const subjects = this.#offlineSubjects(model, rule);
      const latest = rule.sensorId ? await latestBySensor(ch, [rule.sensorId]) : new Map<string, Sample>();
      for (const subject of subjects) {
        const lastReport = rule.sensorId ? (latest.get(subject.id)?.at ?? subject.since.getTime()) : subject.since.getTime();
        await this.#judge(model, rule, subject.id, subject.spec, [{ at, value: Math.max(0, (at - lastReport) / 1000) }], now);
      }
    } else if (rule.kind === "battery") {
      const spec: ConditionSpec = { comparison: "below", threshold: rule.batteryDays!, hysteresis: rule.hysteresis, minDurationMs: rule.minDurationSeconds * 1000 };
      const windowMs = rule.windowMinutes ? rule.windowMinutes * 60_000 : BATTERY_WINDOW_MS;
      for (const device of devicesOfRule(model, rule)) {
        const batteries = [...model.sensors.values()].filter((s) => s.deviceId === device.id && s.metric === "battery").map((s) => s.id);
        if (batteries.length === 0) continue;
        const points = (await hourlyMeans(ch, batteries, at - windowMs)).filter((p) => p.at <= at);
        if (points.length === 0) continue;
        const days = projectedBatteryDays(points);
        await this.#judge(model, rule, device.id, spec, [{ at, value: days ?? NOT_DRAINING_DAYS }], now);
      }
    }
  }

  /**
   * Runs due schedules. A run whose time is more than MISSED_RUN_AFTER_MS past (the server was
   * down) is missed: policy "skip" logs and drops missed runs, "catch_up" runs once for them now.
   * Each run is claimed by moving `nextRunAt` conditionally, so it happens on one server only.
   */
  async #runSchedules(now: Date): Promise<number> {
    const db = this.deps.db();
    let ran = 0;
    for (const schedule of await dueSchedules(db, now)) {
      const timeZone = await siteTimeZone(db, schedule.siteId);
      const recurrence = recurrenceOf(schedule, timeZone);
      const due = recurrence.between(schedule.nextRunAt!, new Date(now.getTime() + 1), 10_000);
      if (due.length === 0) due.push(schedule.nextRunAt!);
      const latest = due[due.length - 1]!;
      const onTime = now.getTime() - latest.getTime() <= MISSED_RUN_AFTER_MS;
      const missed = onTime ? due.slice(0, -1) : due;
      const run = onTime ? latest : schedule.missedRunPolicy === "catch_up" ? latest : null;
      const next = recurrence.after(now);
      if (!(await claimRun(db, schedule, next, run ? now : null))) continue;
      const base = { siteId: schedule.siteId, scheduleId: schedule.id, plantId: schedule.plantId, subject: schedule.id };
      if (missed.length > 0) {
        const caughtUp = !onTime && run !== null;
        await writeLog(
          db,
          {
            ...base,
            event: "skipped",
            message: caughtUp
              ? `${schedule.name}: ${missed.length} run(s) missed while the server was down; running once now (catch up)`
              : `${schedule.name}: ${missed.length} run(s) missed while the server was down; skipped`,
            details: { missed: missed.map((d) => d.toISOString()), policy: schedule.missedRunPolicy },
          },
          now,
        );
      }
      if (!run) continue;
      ran++;
      await this.#runSchedule(schedule, run, timeZone, now);
    }
    return ran;
  }

  async #runSchedule(schedule: ScheduleRow, occurrence: Date, timeZone: string, now: Date): Promise<void> {
    const db = this.deps.db();
    const plant = schedule.plantId ? (await db.select({ name: plants.name }).from(plants).where(eq(plants.id, schedule.plantId)))[0] : undefined;
    await writeLog(
      db,
      { siteId: schedule.siteId, scheduleId: schedule.id, plantId: schedule.plantId, subject: schedule.id, event: "fired", message: `${schedule.name}: run of ${occurrence.toISOString()}`, details: { occurrence: occurrence.toISOString() } },
      now,
    );
    await runActions(
      {
        db,
        clickhouse: this.deps.clickhouse(),
        notify: this.deps.notify,
        siteId: schedule.siteId,
        timeZone,
        scheduleId: schedule.id,
        plantId: schedule.plantId,
        alert: { rule: `schedule:${schedule.id}`, subject: schedule.id },
        values: { plant: plant?.name ?? null, rule: schedule.name },
        idempotencyKey: `s:${schedule.id}:${occurrence.getTime()}`,
        wateringSource: "scheduled",
        source: `schedule:${schedule.id}`,
        now,
      },
      schedule.actions,
    );
  }
}

const round = (v: number) => Math.round(v * 100) / 100;
