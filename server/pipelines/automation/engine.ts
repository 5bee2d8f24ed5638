import { and, eq, isNotNull, isNull } from "drizzle-orm";
import type { Clickhouse } from "../../../clickhouse/client";
import type { Db } from "../../../db/client";
import { automationRules, devicePresence, devices, plants, sensors } from "../../../db/schema";
import { noteAlertValue, resolveAlertByKey } from "../../alerts";
import type { DevicePresence, DeviceSeen, EventHub, Logger, ReadingsCommitted } from "../../platform";
import { runActions, type Notify } from "./actions";
import { advance, alertRuleOf, claimRun, type ConditionSpec, dueSchedules, FRESH, loadStates, projectedBatteryDays, recurrenceOf, type RuleRow, type Sample, saveState, type ScheduleRow, type StoredState, writeLog } from "../../rules";
import { aggregateBySensor, hourlyMeans, latestBySensor } from "../../../clickhouse/automation";
import type { DeviceFacts, SiteDirectory, SiteFacts } from "../../sites";
import { activeDevice, conditionOf, devicesOfRule, livingPlant, sensorsOfRule } from "./targets";
import { checkRises, detectWaterings } from "./watering";
import { judgedDay } from "./daily-light";
import { expirePauses } from "../../watering";
import { DLI_UNIT } from "../../../shared/schemas/plant-status";

/**
 * The automation engine. Four ways in:
 * - `evaluate(batch)`: ingest hands over every durable batch once it is in ClickHouse (after the
 *   device has its receipt, never on the ack path, and again after a restart for batches not
 *   judged before it); threshold rules judge its readings, per site one batch after the other, and
 *   the lag from durable to judged is measured;
 * - `presence(change)`: a device said it went offline or came back (MQTT; relayed to every
 *   server): its offline rules judge it at once;
 * - `tick(now)`, every `tickIntervalMs` (and called by tests with their clock): aggregate, offline,
 *   battery and daily light rules, due schedules, moisture-rise checks, detected waterings and
 *   pauses of automatic watering that have run out;
 * - a device's heartbeat (`device.seen`: it polled for commands, acknowledged one, or checked its
 *   token), which clears "offline" at once, as a report does.
 * Everything that must happen once is claimed in Postgres, so several servers may run engines
 * against one database, and judging a batch twice changes nothing.
 */

export interface AutomationDeps {
  db: () => Db;
  clickhouse: () => Clickhouse;
  /** Rules, sensors, plants and devices of each site, kept current by change events. */
  directory: SiteDirectory;
  /** Device heartbeats (`device.seen`) arrive here. */
  events: EventHub;
  log: Logger;
  now: () => Date;
  notify: Notify;
  /** 0: no timer (tests call tick themselves). */
  tickIntervalMs: number;
}

/** A run later than this after its time is "missed" (downtime), handled by the schedule's policy. */
export const MISSED_RUN_AFTER_MS = 5 * 60_000;
/** The battery trend is fitted over this much history unless the rule says otherwise. */
const BATTERY_WINDOW_MS = 7 * 86_400_000;
/** "Not draining" as a number of days, so a flat or charging battery clears the warning. */
const NOT_DRAINING_DAYS = 1e6;
const RACE_RETRIES = 5;
/** A device polling every few seconds is judged "back" once per this long, not on every poll. */
const HEARTBEAT_JUDGE_MS = 10_000;

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
  /** When each device's heartbeat was last judged against the offline rules (this server's clock). */
  #heartbeatsJudged = new Map<string, number>();

  constructor(private readonly deps: AutomationDeps) {}

  start(): void {
    this.#stopped = false;
    this.#unsubscribe.push(this.deps.events.on("device.seen", (event) => this.#heartbeat(event)));
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

  /** Judges a durable batch; resolves once it has been judged (failures are logged, not thrown). */
  evaluate(event: ReadingsCommitted): Promise<void> {
    return this.#chain(event.siteId, () => this.#evaluateCommitted(event), { batchId: event.batchId }, "automation: evaluating readings failed");
  }

  /**
   * A device said it went offline (its will, published by the broker) or came back: its offline
   * rules act now, without waiting for its reports to go stale. "Online" counts as a report.
   * Resolves once judged (failures are logged, not thrown).
   */
  presence(change: DevicePresence): Promise<void> {
    return this.#chain(change.siteId, () => this.#evaluatePresence(change), { deviceId: change.deviceId }, "automation: evaluating presence failed");
  }

  /** Work on one site runs one after the other, in arrival order; resolves when this piece is done. */
  #chain(siteId: string, work: () => Promise<void>, context: Record<string, unknown>, failure: string): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const previous = this.#chains.get(siteId) ?? Promise.resolve();
    const next: Promise<void> = previous
      .then(work)
      .catch((error) => this.deps.log.error({ err: error, siteId, ...context }, failure))
      .finally(() => {
        if (this.#chains.get(siteId) === next) this.#chains.delete(siteId);
      });
    this.#chains.set(siteId, next);
    return next;
  }

  /**
   * A device that only acts (a pump controller polling for commands) is alive too: its heartbeat
   * counts as a report for offline rules judging devices, and clears "offline" at once.
   */
  #heartbeat(event: DeviceSeen): void {
    const at = this.deps.now().getTime();
    this.#reports.set(event.deviceId, Math.max(at, this.#reports.get(event.deviceId) ?? 0));
    if (at - (this.#heartbeatsJudged.get(event.deviceId) ?? -Infinity) < HEARTBEAT_JUDGE_MS) return;
    this.#heartbeatsJudged.set(event.deviceId, at);
    this.#chain(
      event.siteId,
      async () => {
        const site = await this.deps.directory.site(event.siteId);
        if (!site) return;
        const now = this.deps.now();
        // Rules on a sensor judge that sensor's own readings: a heartbeat is not one.
        for (const rule of site.rules.filter((r) => r.kind === "offline" && !r.sensorId)) {
          const seen = this.#offlineSubjects(site, rule, new Map())
            .filter((subject) => subject.deviceId === event.deviceId)
            .map((subject) => ({ subject: subject.id, spec: subject.spec, samples: [{ at: now.getTime(), value: 0 }] }));
          await this.#judgeAll(site, rule, seen, now);
        }
      },
      { deviceId: event.deviceId },
      "automation: judging a heartbeat failed",
    );
  }

  async #evaluatePresence(change: DevicePresence): Promise<void> {
    const now = this.deps.now();
    if (change.state === "online") this.#reports.set(change.deviceId, Math.max(this.#reports.get(change.deviceId) ?? 0, now.getTime()));
    const site = await this.deps.directory.site(change.siteId);
    const rules = site?.rules.filter((r) => r.kind === "offline") ?? [];
    if (!site || rules.length === 0) return;
    // The presence was recorded before it was announced: read it with the last-seen times.
    const activity = await activityOf(this.deps.db(), change.siteId);
    for (const rule of rules) {
      const subjects = this.#offlineSubjects(site, rule, activity).filter((subject) => subject.deviceId === change.deviceId);
      await this.#judgeAll(
        site,
        rule,
        subjects.map((subject) => {
          const age = Math.max(0, (now.getTime() - subject.since.getTime()) / 1000);
          return { subject: subject.id, spec: subject.spec, samples: [{ at: now.getTime(), value: subject.reportedOffline ? Math.max(age, 1) : 0 }] };
        }),
        now,
      );
    }
  }

  async #evaluateCommitted(event: ReadingsCommitted): Promise<void> {
    this.#reports.set(event.deviceId, Math.max(this.#reports.get(event.deviceId) ?? 0, event.receivedAt));
    const site = await this.deps.directory.site(event.siteId);
    const rules = site?.rules.filter((r) => r.kind === "threshold" || r.kind === "offline") ?? [];
    if (site && rules.length > 0) {
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
          const spec = conditionOf(site, rule);
          if (!spec) continue;
          const judged = sensorsOfRule(site, rule).flatMap((sensor) => {
            const samples = bySensor.get(sensor.id);
            return samples ? [{ subject: sensor.id, spec, samples }] : [];
          });
          await this.#judgeAll(site, rule, judged, now);
        } else {
          // A report clears "offline" at once rather than at the next tick.
          const reported = this.#offlineSubjects(site, rule, new Map())
            .filter((subject) => (rule.sensorId ? bySensor.has(subject.id) : subject.deviceId === event.deviceId))
            .map((subject) => ({ subject: subject.id, spec: subject.spec, samples: [{ at: event.receivedAt, value: 0 }] }));
          await this.#judgeAll(site, rule, reported, now);
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

  /** Judges one rule for several subjects: their states are read in one query, then each is advanced. */
  async #judgeAll(site: SiteFacts, rule: RuleRow, judged: { subject: string; spec: ConditionSpec; samples: Sample[] }[], now: Date): Promise<void> {
    if (judged.length === 0) return;
    const states = await loadStates(this.deps.db(), rule.id, judged.map((j) => j.subject));
    for (const { subject, spec, samples } of judged) await this.#judge(site, rule, subject, spec, samples, now, states.get(subject) ?? FRESH);
  }

  /** Advances one rule for one subject through its samples and acts on each transition, once. */
  async #judge(site: SiteFacts, rule: RuleRow, subject: string, spec: ConditionSpec, samples: Sample[], now: Date, known?: StoredState): Promise<number> {
    const db = this.deps.db();
    for (let attempt = 0; attempt < RACE_RETRIES; attempt++) {
      // The state read with the others first; after a lost race, read again.
      const read = (attempt === 0 ? known : undefined) ?? (await loadStates(db, rule.id, [subject])).get(subject) ?? FRESH;
      const result = advance(spec, read, samples);
      if (result.changed && !(await saveState(db, rule.id, subject, read, result.state, now))) continue;
      for (const { transition, sample } of result.transitions) await this.#act(site, rule, subject, spec, transition, sample, now);
      // While it fires, its alert follows the value (the firing sample set it; later ones update it).
      const last = result.state.sampleAt;
      const lastFiring = result.transitions.at(-1)?.sample.at;
      if (result.state.status === "firing" && last !== null && last !== read.sampleAt && last !== lastFiring) {
        await noteAlertValue(db, { siteId: rule.siteId, rule: alertRuleOf(rule.id), subject }, result.state.lastValue!, last);
      }
      return result.transitions.length;
    }
    this.deps.log.warn({ ruleId: rule.id, subject }, "automation: state kept changing under us; giving up this evaluation");
    return 0;
  }

  async #act(site: SiteFacts, rule: RuleRow, subject: string, spec: ConditionSpec, transition: "fired" | "cleared", sample: Sample, now: Date) {
    const db = this.deps.db();
    const sensor = site.sensors.get(subject);
    const device = activeDevice(site, subject) ?? activeDevice(site, sensor?.deviceId);
    const plantId = rule.plantId ?? sensor?.plantId ?? null;
    const plant = livingPlant(site, plantId);
    const metric =
      rule.kind === "offline"
        ? "seconds since last report"
        : rule.kind === "battery"
          ? "days of battery left"
          : rule.kind === "daily_light"
            ? "daily light integral"
            : (rule.metric ?? sensor?.metric ?? "");
    const values = {
      value: sample.value,
      threshold: spec.threshold,
      metric,
      unit:
        rule.kind === "threshold" || rule.kind === "aggregate"
          ? (sensor?.unit ?? "")
          : rule.kind === "offline"
            ? "s"
            : rule.kind === "daily_light"
              ? DLI_UNIT
              : "days",
      plant: plant?.name ?? null,
      sensor: sensor?.label ?? null,
      device: device?.name ?? null,
      rule: rule.name,
    };
    const base = { siteId: rule.siteId, ruleId: rule.id, plantId, subject };
    const alertRule = alertRuleOf(rule.id);
    if (transition === "cleared") {
      await writeLog(db, { ...base, event: "cleared", message: `${rule.name}: cleared (${metric} ${round(sample.value)})`, details: { value: sample.value, threshold: spec.threshold, at: sample.at } }, now);
      const resolved = await resolveAlertByKey(db, { siteId: rule.siteId, rule: alertRule, subject, cleared: { value: sample.value, at: sample.at } }, now);
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
        site,
        siteId: rule.siteId,
        ruleId: rule.id,
        plantId,
        alert: {
          rule: alertRule,
          subject,
          sensorId: sensor?.id ?? null,
          deviceId: device?.id ?? null,
          // What it measured: offline and battery rules judge time, not a metric of the plant.
          numbers: {
            ruleId: rule.id,
            metric: rule.kind === "offline" || rule.kind === "battery" ? null : (rule.metric ?? sensor?.metric ?? null),
            value: sample.value,
            bound: spec.threshold,
            direction: spec.comparison,
            at: sample.at,
          },
        },
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

  /**
   * Who an offline rule judges, each with when it last reported (`activity`: devices' last-seen
   * times and presence from Postgres). A device whose latest word is an explicit "offline" (after
   * its last report) breaches at once: its threshold is 0 seconds.
   */
  #offlineSubjects(site: SiteFacts, rule: RuleRow, activity: Map<string, DeviceLastHeard>): { id: string; deviceId: string; spec: ConditionSpec; since: Date; reportedOffline: boolean }[] {
    const k = rule.staleFactor ?? 3;
    const specOf = (intervalSeconds: number, reportedOffline: boolean): ConditionSpec => ({
      comparison: "above",
      threshold: reportedOffline ? 0 : k * intervalSeconds,
      hysteresis: 0,
      minDurationMs: rule.minDurationSeconds * 1000,
    });
    const seenOf = (d: DeviceFacts) => Math.max(activity.get(d.id)?.lastSeenAt?.getTime() ?? d.createdAt.getTime(), this.#reports.get(d.id) ?? 0);
    const offline = (d: DeviceFacts) => {
      const since = activity.get(d.id)?.offlineSince;
      return since != null && since.getTime() >= seenOf(d);
    };
    if (rule.sensorId) {
      const sensor = site.sensors.get(rule.sensorId);
      const device = sensor && activeDevice(site, sensor.deviceId);
      return sensor && device
        ? [{ id: sensor.id, deviceId: device.id, spec: specOf(device.expectedReportIntervalSeconds, offline(device)), since: sensor.createdAt, reportedOffline: offline(device) }]
        : [];
    }
    return devicesOfRule(site, rule).map((d) => ({ id: d.id, deviceId: d.id, spec: specOf(d.expectedReportIntervalSeconds, offline(d)), since: new Date(seenOf(d)), reportedOffline: offline(d) }));
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
        const site = await this.deps.directory.site(siteId);
        if (!site) return;
        const activity = await activityOf(db, siteId);
        for (const rule of site.rules) {
          if (rule.kind === "threshold") continue;
          await attempt(`rule ${rule.id}`, async () => {
            report.rulesEvaluated++;
            await this.#tickRule(site, rule, activity, now);
          });
        }
      });
    }
    await attempt("schedules", async () => {
      report.schedulesRun = await this.#runSchedules(now);
    });
    await attempt("expired pauses of automatic watering", async () => {
      await expirePauses(db, now);
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

  async #tickRule(site: SiteFacts, rule: RuleRow, activity: Map<string, DeviceLastHeard>, now: Date): Promise<void> {
    const ch = this.deps.clickhouse();
    const at = now.getTime();
    if (rule.kind === "aggregate") {
      const spec = conditionOf(site, rule);
      if (!spec) return;
      const subjects = sensorsOfRule(site, rule);
      const values = await aggregateBySensor(ch, subjects.map((s) => s.id), rule.aggregate ?? "avg", at - (rule.windowMinutes ?? 30) * 60_000, at);
      for (const sensor of subjects) {
        const value = values.get(sensor.id);
        if (value !== undefined) await this.#judge(site, rule, sensor.id, spec, [{ at, value }], now);
      }
    } else if (rule.kind === "offline") {
      const subjects = this.#offlineSubjects(site, rule, activity);
      const latest = rule.sensorId ? await latestBySensor(ch, [rule.sensorId]) : new Map<string, Sample>();
      for (const subject of subjects) {
        const lastReport = rule.sensorId ? (latest.get(subject.id)?.at ?? subject.since.getTime()) : subject.since.getTime();
        const age = Math.max(0, (at - lastReport) / 1000);
        // Said "offline": at least a second of silence, so a threshold of 0 is breached.
        await this.#judge(site, rule, subject.id, subject.spec, [{ at, value: subject.reportedOffline ? Math.max(age, 1) : age }], now);
      }
    } else if (rule.kind === "daily_light") {
      // Once a day, on the local day just ended: a state that judged that day already skips it.
      const spec = conditionOf(site, rule);
      const lights = sensorsOfRule(site, rule);
      const subject = rule.plantId ?? rule.sensorId;
      if (!spec || lights.length === 0 || !subject) return;
      const state = (await loadStates(this.deps.db(), rule.id, [subject])).get(subject) ?? FRESH;
      const day = await judgedDay(ch, lights.map((s) => s.id), site.timezone, now, state.sampleAt);
      if (day) await this.#judge(site, rule, subject, spec, [day], now, state);
    } else if (rule.kind === "battery") {
      const spec: ConditionSpec = { comparison: "below", threshold: rule.batteryDays!, hysteresis: rule.hysteresis, minDurationMs: rule.minDurationSeconds * 1000 };
      const windowMs = rule.windowMinutes ? rule.windowMinutes * 60_000 : BATTERY_WINDOW_MS;
      for (const device of devicesOfRule(site, rule)) {
        const batteries = site.sensorList.filter((s) => s.deviceId === device.id && s.metric === "battery").map((s) => s.id);
        if (batteries.length === 0) continue;
        const points = (await hourlyMeans(ch, batteries, at - windowMs)).filter((p) => p.at <= at);
        if (points.length === 0) continue;
        const days = projectedBatteryDays(points);
        await this.#judge(site, rule, device.id, spec, [{ at, value: days ?? NOT_DRAINING_DAYS }], now);
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
      const site = await this.deps.directory.site(schedule.siteId);
      if (!site) continue;
      const timeZone = site.timezone;
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
      await this.#runSchedule(site, schedule, run, now);
    }
    return ran;
  }

  async #runSchedule(site: SiteFacts, schedule: ScheduleRow, occurrence: Date, now: Date): Promise<void> {
    const db = this.deps.db();
    const plant = schedule.plantId ? site.plants.get(schedule.plantId) : undefined;
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
        site,
        siteId: schedule.siteId,
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

interface DeviceLastHeard {
  lastSeenAt: Date | null;
  /** When the device last said it went offline (an MQTT will), if that is its latest word. */
  offlineSince: Date | null;
}

/**
 * When each device of the site last reported, and what it last said of its presence, as Postgres
 * has it (activity, not site facts: read fresh each time).
 */
async function activityOf(db: Db, siteId: string): Promise<Map<string, DeviceLastHeard>> {
  const rows = await db
    .select({ id: devices.id, lastSeenAt: devices.lastSeenAt, presence: devicePresence.state, presenceAt: devicePresence.changedAt })
    .from(devices)
    .leftJoin(devicePresence, eq(devicePresence.deviceId, devices.id))
    .where(eq(devices.siteId, siteId));
  return new Map(rows.map((r) => [r.id, { lastSeenAt: r.lastSeenAt, offlineSince: r.presence === "offline" ? r.presenceAt : null }]));
}
