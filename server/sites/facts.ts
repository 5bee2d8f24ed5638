import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { actuators, automationRules, devices, plants, sensors, siteMembers, sites, species } from "../../db/schema";
import type { Calibration } from "../../shared/metrics";
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
  /** Living and archived plants (`archived` tells). */
  plants: ReadonlyMap<string, PlantFacts>;
  actuators: ReadonlyMap<string, ActuatorFacts>;
  /** Enabled automation rules. */
  rules: readonly RuleFacts[];
}

/** One site's facts from Postgres, or undefined when there is no such site. */
export async function loadSiteFacts(db: Db, siteId: string): Promise<SiteFacts | undefined> {
  const [siteRows, memberRows, deviceRows, sensorRows, plantRows, actuatorRows, ruleRows] = await Promise.all([
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
  ]);
  const site = siteRows[0];
  if (!site) return undefined;

  const deviceMap = new Map<string, DeviceFacts>();
  for (const d of deviceRows) {
    const { revokedAt, ...rest } = d;
    deviceMap.set(d.id, { ...rest, revoked: revokedAt !== null });
  }
  const sensorList: SensorFacts[] = sensorRows.map((s) => {
    const device = deviceMap.get(s.deviceId);
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
    };
  });
  const sensorsByDevice = new Map<string, Map<string, SensorFacts>>();
  for (const s of sensorList) {
    let byKey = sensorsByDevice.get(s.deviceId);
    if (!byKey) sensorsByDevice.set(s.deviceId, (byKey = new Map()));
    byKey.set(s.key, s);
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
    sensorList,
    sensors: new Map(sensorList.map((s) => [s.id, s])),
    sensorsByDevice,
    plants: plantMap,
    actuators: new Map(actuatorRows.map((a) => [a.id, a])),
    rules: ruleRows,
  };
}

/** The site of the device whose token has this hash (token hashes are unique). */
export async function siteOfToken(db: Db, tokenHash: string): Promise<string | undefined> {
  const [row] = await db.select({ siteId: devices.siteId }).from(devices).where(eq(devices.tokenHash, tokenHash));
  return row?.siteId;
}
