import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../../db/client";
import { automationRules, devices, plants, sensors, sites, species } from "../../db/schema";
import { THRESHOLD_METRICS, type ThresholdMetric } from "../../shared/schemas/plants";
import { effectiveThresholds } from "../plants/plants";
import type { ConditionSpec } from "./evaluate";
import type { RuleRow } from "./rules";

/**
 * What the engine needs to know about a site to evaluate its rules: the enabled rules, its
 * sensors (which plant, which metric), plants with the thresholds in force, devices, and the time
 * zone. Loaded in a handful of queries and cached by `SiteModels`, so evaluating a batch of
 * readings does not query Postgres for configuration (architecture decision 5).
 */
export interface SensorInfo {
  id: string;
  deviceId: string;
  plantId: string | null;
  metric: string;
  unit: string;
  label: string;
  createdAt: Date;
}
export interface PlantInfo {
  id: string;
  name: string;
  thresholds: Partial<Record<ThresholdMetric, { min: number | null; max: number | null }>>;
}
export interface DeviceInfo {
  id: string;
  name: string;
  expectedReportIntervalSeconds: number;
  lastSeenAt: Date | null;
  createdAt: Date;
}

export interface SiteModel {
  siteId: string;
  timezone: string;
  rules: RuleRow[];
  sensors: Map<string, SensorInfo>;
  plants: Map<string, PlantInfo>;
  devices: Map<string, DeviceInfo>;
  loadedAt: number;
}

export async function loadSiteModel(db: Db, siteId: string, loadedAt: number): Promise<SiteModel> {
  const [site] = await db.select({ timezone: sites.timezone }).from(sites).where(eq(sites.id, siteId));
  const [rules, sensorRows, plantRows, deviceRows] = await Promise.all([
    db
      .select()
      .from(automationRules)
      .where(and(eq(automationRules.siteId, siteId), eq(automationRules.enabled, true))),
    db.select().from(sensors).where(eq(sensors.siteId, siteId)),
    db
      .select({ plant: plants, species })
      .from(plants)
      .leftJoin(species, eq(species.id, plants.speciesId))
      .where(and(eq(plants.siteId, siteId), isNull(plants.archivedAt))),
    db
      .select({
        id: devices.id,
        name: devices.name,
        expectedReportIntervalSeconds: devices.expectedReportIntervalSeconds,
        lastSeenAt: devices.lastSeenAt,
        createdAt: devices.createdAt,
        revokedAt: devices.revokedAt,
      })
      .from(devices)
      .where(eq(devices.siteId, siteId)),
  ]);
  const plantMap = new Map<string, PlantInfo>();
  for (const { plant, species: sp } of plantRows) {
    const effective = effectiveThresholds(plant.thresholdOverrides, sp);
    const thresholds: PlantInfo["thresholds"] = {};
    for (const metric of THRESHOLD_METRICS) thresholds[metric] = { min: effective[metric].min.value, max: effective[metric].max.value };
    plantMap.set(plant.id, { id: plant.id, name: plant.name, thresholds });
  }
  return {
    siteId,
    timezone: site?.timezone ?? "UTC",
    rules,
    sensors: new Map(
      sensorRows.map((s) => [
        s.id,
        { id: s.id, deviceId: s.deviceId, plantId: s.plantId, metric: s.metric, unit: s.unit, label: s.name ?? s.key, createdAt: s.createdAt },
      ]),
    ),
    plants: plantMap,
    // A revoked device is retired on purpose: it is never "offline".
    devices: new Map(deviceRows.filter((d) => !d.revokedAt).map((d) => [d.id, d])),
    loadedAt,
  };
}

/** Sensors a threshold or aggregate rule watches: its sensor, or its plant's / device's sensors of the metric. */
export function sensorsOfRule(model: SiteModel, rule: RuleRow): SensorInfo[] {
  if (rule.sensorId) {
    const sensor = model.sensors.get(rule.sensorId);
    return sensor ? [sensor] : [];
  }
  return [...model.sensors.values()].filter(
    (s) => s.metric === rule.metric && (rule.plantId ? s.plantId === rule.plantId : s.deviceId === rule.deviceId),
  );
}

/** Devices a battery or offline rule watches: its device, its sensor's device, or the devices measuring its plant. */
export function devicesOfRule(model: SiteModel, rule: RuleRow): DeviceInfo[] {
  const ids = rule.deviceId
    ? [rule.deviceId]
    : rule.sensorId
      ? [model.sensors.get(rule.sensorId)?.deviceId]
      : [...model.sensors.values()].filter((s) => s.plantId === rule.plantId).map((s) => s.deviceId);
  return [...new Set(ids)].flatMap((id) => (id && model.devices.has(id) ? [model.devices.get(id)!] : []));
}

/**
 * The condition of a threshold or aggregate rule for one sensor, or null when the threshold comes
 * from a plant range that is not set (the rule then has nothing to compare against).
 */
export function conditionOf(model: SiteModel, rule: RuleRow): ConditionSpec | null {
  let threshold = rule.threshold;
  if (rule.thresholdFrom === "plant_min" || rule.thresholdFrom === "plant_max") {
    const range = model.plants.get(rule.plantId ?? "")?.thresholds[rule.metric as ThresholdMetric];
    threshold = (rule.thresholdFrom === "plant_min" ? range?.min : range?.max) ?? null;
  }
  if (threshold === null || !rule.comparison) return null;
  return { comparison: rule.comparison, threshold, hysteresis: rule.hysteresis, minDurationMs: rule.minDurationSeconds * 1000 };
}

/** Site models with bounded staleness (`ttlMs`) and explicit invalidation when rules change. */
export class SiteModels {
  #models = new Map<string, Promise<SiteModel>>();

  constructor(
    private readonly db: () => Db,
    private readonly now: () => number,
    private readonly ttlMs = 15_000,
  ) {}

  async get(siteId: string): Promise<SiteModel> {
    const cached = this.#models.get(siteId);
    if (cached) {
      const model = await cached.catch(() => undefined);
      if (model && this.now() - model.loadedAt < this.ttlMs && this.#models.get(siteId) === cached) return model;
    }
    const loading = loadSiteModel(this.db(), siteId, this.now());
    this.#models.set(siteId, loading);
    loading.catch(() => {
      if (this.#models.get(siteId) === loading) this.#models.delete(siteId);
    });
    return loading;
  }

  /** Fresh from Postgres (scheduled work reads devices' last-seen times), and cached for ingest. */
  async fresh(siteId: string): Promise<SiteModel> {
    this.invalidate(siteId);
    return this.get(siteId);
  }

  invalidate(siteId: string): void {
    this.#models.delete(siteId);
  }
}
