import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { actuators, automationRules, devices, mqttBindings, plants, sensorAssignments, sensorMetricPeriods, sensors, siteMembers, sites, species } from "../../db/schema";
import type { Calibration } from "../../shared/metrics";
import { bindingTargetKey, topicSpecificity } from "../../shared/mqtt-topics";
import { DEFAULT_PREFIXES } from "../../shared/schemas/mqtt";
import type { SiteRole } from "../../shared/schemas/accounts";
import { THRESHOLD_METRICS, type ThresholdMetric } from "../../shared/schemas/plants";
import { effectiveThresholds, type Bound, type ThresholdsInForce } from "../../shared/thresholds";

/**
 * What the server knows about one site, read from Postgres in one go: the facts that auth, ingest,
 * analytics and automation consult on every request, batch and tick. Loaded and kept by the site
 * directory (./directory.ts); nothing here is ever changed in place.
 */

export interface DeviceFacts {
  id: string;
  siteId: string;
  name: string;
  kind: "sensor" | "actuator" | "combined";
  expectedReportIntervalSeconds: number;
  /** SHA-256 of the device's current token: the directory's token index is built from it. */
  tokenHash: string;
  /** A revoked device is retired on purpose: refused at the door, never judged "offline". */
  revoked: boolean;
  createdAt: Date;
}

export interface SensorFacts {
  id: string;
  deviceId: string;
  deviceName: string;
  /** How the device names the sensor in its batches. */
  key: string;
  name: string | null;
  /** The name a person gave it, else its key. */
  label: string;
  metric: string;
  unit: string;
  plantId: string | null;
  /** Two-point calibration applied at ingest; null when uncalibrated. */
  calibration: Calibration | null;
  expectedReportIntervalSeconds: number;
  createdAt: Date;
  /** Which plant the sensor measured when, oldest first; the current assignment is the open one (`to` null). */
  assignments: readonly AssignmentFacts[];
  /** What it measured before its current metric, oldest first; `metric` holds since the last one's end. */
  pastMetrics: readonly MetricPeriodFacts[];
}

/** `[from, to)` in epoch ms; `to` null while it lasts. */
export interface AssignmentFacts {
  plantId: string;
  from: number;
  to: number | null;
}

/** `[from, to)` in epoch ms. */
export interface MetricPeriodFacts {
  metric: string;
  unit: string;
  from: number;
  to: number;
}

export interface PlantFacts {
  id: string;
  name: string;
  archived: boolean;
  /** The care ranges in force, each bound with where it comes from (plant, species, none). */
  ranges: ThresholdsInForce;
  /** The same bounds as plain numbers, for rules that compare against them. */
  thresholds: Record<ThresholdMetric, { min: number | null; max: number | null }>;
  /** The daily light integral range (mol/m²/d) of its species; "none" without one. */
  dli: { min: Bound; max: Bound };
}

export type ActuatorFacts = typeof actuators.$inferSelect;
export type RuleFacts = typeof automationRules.$inferSelect;
export type MqttBindingFacts = typeof mqttBindings.$inferSelect;

/**
 * The site's MQTT bindings (topic → device), indexed the way every MQTT message is routed (the
 * pipeline in server/pipelines/mqtt): preset bindings by (preset, prefix, base), generic patterns
 * most specific first, and the base topics to recognise for the presets whose tool lets people
 * change it (the defaults and every bound one).
 */
export interface MqttBindingsFacts {
  /** In the order they were made. */
  list: readonly MqttBindingFacts[];
  /** bindingTargetKey(preset, prefix, base) → binding, for every preset binding. */
  byTarget: ReadonlyMap<string, MqttBindingFacts>;
  generic: readonly MqttBindingFacts[];
  prefixes: { zigbee2mqtt: ReadonlySet<string>; omg: ReadonlySet<string> };
}

export interface SiteFacts {
  id: string;
  name: string;
  timezone: string;
  members: ReadonlyMap<string, SiteRole>;
  devices: ReadonlyMap<string, DeviceFacts>;
  /** token hash → device: how a device's request is recognised. */
  devicesByToken: ReadonlyMap<string, DeviceFacts>;
  /** Every sensor of the site, ordered by id (analytics answer in this order). */
  sensorList: readonly SensorFacts[];
  sensors: ReadonlyMap<string, SensorFacts>;
  /** deviceId → key → sensor: what ingest resolves a batch's keys with. */
  sensorsByDevice: ReadonlyMap<string, ReadonlyMap<string, SensorFacts>>;
  /** plantId → every sensor that was ever assigned to it (by id): whose readings a plant's analytics may hold. */
  sensorsEverOfPlant: ReadonlyMap<string, readonly SensorFacts[]>;
  /** Living and archived plants (`archived` tells). */
  plants: ReadonlyMap<string, PlantFacts>;
  actuators: ReadonlyMap<string, ActuatorFacts>;
  /** Enabled automation rules. */
  rules: readonly RuleFacts[];
  mqtt: MqttBindingsFacts;
}

/** One site's facts from Postgres, or undefined when there is no such site. */
export async function loadSiteFacts(db: Db, siteId: string): Promise<SiteFacts | undefined> {
  const [siteRows, memberRows, deviceRows, sensorRows, plantRows, actuatorRows, ruleRows, assignmentRows, metricRows, bindingRows] = await Promise.all([
    db.select({ id: sites.id, name: sites.name, timezone: sites.timezone }).from(sites).where(eq(sites.id, siteId)),
    db.select({ userId: siteMembers.userId, role: siteMembers.role }).from(siteMembers).where(eq(siteMembers.siteId, siteId)),
    db
      .select({
        id: devices.id,
        siteId: devices.siteId,
        name: devices.name,
        kind: devices.kind,
        expectedReportIntervalSeconds: devices.expectedReportIntervalSeconds,
        tokenHash: devices.tokenHash,
        revokedAt: devices.revokedAt,
        createdAt: devices.createdAt,
      })
      .from(devices)
      .where(eq(devices.siteId, siteId)),
    db.select().from(sensors).where(eq(sensors.siteId, siteId)).orderBy(asc(sensors.id)),
    db.select({ plant: plants, species }).from(plants).leftJoin(species, eq(species.id, plants.speciesId)).where(eq(plants.siteId, siteId)),
    db.select().from(actuators).where(eq(actuators.siteId, siteId)),
    db
      .select()
      .from(automationRules)
      .where(and(eq(automationRules.siteId, siteId), eq(automationRules.enabled, true))),
    db
      .select({ sensorId: sensorAssignments.sensorId, plantId: sensorAssignments.plantId, startedAt: sensorAssignments.startedAt, endedAt: sensorAssignments.endedAt })
      .from(sensorAssignments)
      .where(eq(sensorAssignments.siteId, siteId))
      .orderBy(asc(sensorAssignments.startedAt), asc(sensorAssignments.id)),
    db
      .select({ sensorId: sensorMetricPeriods.sensorId, metric: sensorMetricPeriods.metric, unit: sensorMetricPeriods.unit, startedAt: sensorMetricPeriods.startedAt, endedAt: sensorMetricPeriods.endedAt })
      .from(sensorMetricPeriods)
      .where(eq(sensorMetricPeriods.siteId, siteId))
      .orderBy(asc(sensorMetricPeriods.endedAt), asc(sensorMetricPeriods.id)),
    db.select().from(mqttBindings).where(eq(mqttBindings.siteId, siteId)).orderBy(asc(mqttBindings.createdAt), asc(mqttBindings.id)),
  ]);
  const site = siteRows[0];
  if (!site) return undefined;

  const deviceMap = new Map<string, DeviceFacts>();
  for (const d of deviceRows) {
    const { revokedAt, ...rest } = d;
    deviceMap.set(d.id, { ...rest, revoked: revokedAt !== null });
  }
  const assignmentsOf = new Map<string, AssignmentFacts[]>();
  for (const a of assignmentRows) {
    let list = assignmentsOf.get(a.sensorId);
    if (!list) assignmentsOf.set(a.sensorId, (list = []));
    list.push({ plantId: a.plantId, from: a.startedAt.getTime(), to: a.endedAt?.getTime() ?? null });
  }
  const metricsOf = new Map<string, MetricPeriodFacts[]>();
  for (const m of metricRows) {
    let list = metricsOf.get(m.sensorId);
    if (!list) metricsOf.set(m.sensorId, (list = []));
    list.push({ metric: m.metric, unit: m.unit, from: m.startedAt.getTime(), to: m.endedAt.getTime() });
  }
  const sensorList = sensorRows.map((s) => sensorFacts(s, deviceMap.get(s.deviceId), assignmentsOf.get(s.id) ?? [], metricsOf.get(s.id) ?? []));
  const sensorsEverOfPlant = new Map<string, SensorFacts[]>();
  for (const s of sensorList) {
    for (const plantId of new Set(s.assignments.map((a) => a.plantId))) {
      let list = sensorsEverOfPlant.get(plantId);
      if (!list) sensorsEverOfPlant.set(plantId, (list = []));
      list.push(s);
    }
  }
  const plantMap = new Map<string, PlantFacts>();
  for (const { plant, species: sp } of plantRows) {
    const ranges = effectiveThresholds(plant.thresholdOverrides, sp);
    const thresholds = {} as PlantFacts["thresholds"];
    for (const metric of THRESHOLD_METRICS) thresholds[metric] = { min: ranges[metric].min.value, max: ranges[metric].max.value };
    const dliBound = (value: number | undefined): Bound => (value === undefined ? { value: null, source: "none" } : { value, source: "species" });
    const dli = { min: dliBound(sp?.dliMin), max: dliBound(sp?.dliMax) };
    plantMap.set(plant.id, { id: plant.id, name: plant.name, archived: plant.archivedAt !== null, ranges, thresholds, dli });
  }
  return {
    id: site.id,
    name: site.name,
    timezone: site.timezone,
    members: new Map(memberRows.map((m) => [m.userId, m.role])),
    devices: deviceMap,
    devicesByToken: new Map([...deviceMap.values()].map((d) => [d.tokenHash, d])),
    ...sensorIndexes(sensorList),
    sensorsEverOfPlant,
    plants: plantMap,
    actuators: new Map(actuatorRows.map((a) => [a.id, a])),
    rules: ruleRows,
    mqtt: mqttBindingsOf(bindingRows),
  };
}

export type SensorRow = typeof sensors.$inferSelect;

/**
 * The facts with sensors just created added: what a server that created them knows without reading
 * the whole site again (ingest creates a device's sensors on its first batch; a fleet of new
 * devices would otherwise cost a full site load each). New rows have no plant, assignment or past
 * metric; those come with the next full load, which any later change of the site triggers.
 */
export function withCreatedSensors(facts: SiteFacts, rows: readonly SensorRow[]): SiteFacts {
  const added = rows.filter((row) => !facts.sensors.has(row.id)).map((row) => sensorFacts(row, facts.devices.get(row.deviceId), [], []));
  if (added.length === 0) return facts;
  const sensorList = [...facts.sensorList, ...added].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ...facts, ...sensorIndexes(sensorList) };
}

function sensorFacts(s: SensorRow, device: DeviceFacts | undefined, assignments: AssignmentFacts[], pastMetrics: MetricPeriodFacts[]): SensorFacts {
  const calibrated =
    s.calibrationRawLow !== null && s.calibrationValueLow !== null && s.calibrationRawHigh !== null && s.calibrationValueHigh !== null && s.calibrationRawHigh !== s.calibrationRawLow;
  return {
    id: s.id,
    deviceId: s.deviceId,
    deviceName: device?.name ?? "",
    key: s.key,
    name: s.name,
    label: s.name ?? s.key,
    metric: s.metric,
    unit: s.unit,
    plantId: s.plantId,
    calibration: calibrated ? { rawLow: s.calibrationRawLow!, valueLow: s.calibrationValueLow!, rawHigh: s.calibrationRawHigh!, valueHigh: s.calibrationValueHigh! } : null,
    expectedReportIntervalSeconds: device?.expectedReportIntervalSeconds ?? 300,
    createdAt: s.createdAt,
    assignments: withCurrentAssignment(assignments, s.plantId, s.createdAt),
    pastMetrics,
  };
}

/** Postgres orders uuids as their bytes, which is the order of their lowercase hex text. */
function sensorIndexes(sensorList: SensorFacts[]): Pick<SiteFacts, "sensorList" | "sensors" | "sensorsByDevice"> {
  const sensorsByDevice = new Map<string, Map<string, SensorFacts>>();
  for (const s of sensorList) {
    let byKey = sensorsByDevice.get(s.deviceId);
    if (!byKey) sensorsByDevice.set(s.deviceId, (byKey = new Map()));
    byKey.set(s.key, s);
  }
  return { sensorList, sensors: new Map(sensorList.map((s) => [s.id, s])), sensorsByDevice };
}

/**
 * The assignment history with the current assignment guaranteed: `sensors.plant_id` is the current
 * one, and a row written without its history (by hand in psql, say) still counts, as an open
 * interval from the end of the last recorded one (or the sensor's creation).
 */
function withCurrentAssignment(history: AssignmentFacts[], plantId: string | null, createdAt: Date): AssignmentFacts[] {
  const open = history.find((a) => a.to === null);
  if (open?.plantId === plantId || (!open && plantId === null)) return history;
  const closed = history.filter((a) => a.to !== null);
  const lastEnd = closed.reduce((end, a) => Math.max(end, a.to!), createdAt.getTime());
  if (open) closed.push({ ...open, to: Math.max(open.from, lastEnd) });
  if (plantId !== null) closed.push({ plantId, from: open ? Math.max(open.from, lastEnd) : lastEnd, to: null });
  return closed;
}

function mqttBindingsOf(list: MqttBindingFacts[]): MqttBindingsFacts {
  const byTarget = new Map<string, MqttBindingFacts>();
  const generic: MqttBindingFacts[] = [];
  const zigbee2mqtt = new Set([DEFAULT_PREFIXES.zigbee2mqtt]);
  const omg = new Set([DEFAULT_PREFIXES.omg]);
  for (const binding of list) {
    if (binding.preset === "generic") generic.push(binding);
    else byTarget.set(bindingTargetKey(binding.preset, binding.prefix, binding.base), binding);
    if (binding.preset === "zigbee2mqtt") zigbee2mqtt.add(binding.prefix);
    if (binding.preset === "omg") omg.add(binding.prefix);
  }
  generic.sort((a, b) => topicSpecificity(b.base) - topicSpecificity(a.base));
  return { list, byTarget, generic, prefixes: { zigbee2mqtt, omg } };
}

/** The site of the device whose token has this hash (token hashes are unique). */
export async function siteOfToken(db: Db, tokenHash: string): Promise<string | undefined> {
  const [row] = await db.select({ siteId: devices.siteId }).from(devices).where(eq(devices.tokenHash, tokenHash));
  return row?.siteId;
}
