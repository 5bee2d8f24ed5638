import { and, desc, eq, isNotNull, isNull, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { actuators, plants, sensorAssignments, sensors, species, type ThresholdOverrides } from "../../db/schema";
import { THRESHOLD_METRICS, type ThresholdMetric } from "../../shared/schemas/plants";
import { effectiveThresholds } from "../../shared/thresholds";
import { afterCursor, AppError, keysetOf, orderBy, pageOf } from "../platform";
import { watchPlants } from "../rules";
import { wateringSummaries } from "../watering";
import { requirePlant } from "../sites";
import { requireVisibleSpecies } from "./catalog";

type PlantRow = typeof plants.$inferSelect;
type SpeciesRow = typeof species.$inferSelect;

type OverrideInput = Partial<Record<ThresholdMetric, { min?: number | null | undefined; max?: number | null | undefined } | undefined>>;

/** Applies an override patch: a number sets a bound, null removes it (the species' value applies again). */
function mergeOverrides(current: ThresholdOverrides, patch: OverrideInput | undefined): ThresholdOverrides {
  const next: ThresholdOverrides = structuredClone(current);
  for (const [metric, range] of Object.entries(patch ?? {})) {
    if (!range) continue;
    const entry = { ...next[metric] };
    for (const side of ["min", "max"] as const) {
      if (range[side] === null) delete entry[side];
      else if (range[side] !== undefined) entry[side] = range[side];
    }
    if (Object.keys(entry).length) next[metric] = entry;
    else delete next[metric];
  }
  return next;
}

/** An override may not contradict the bound it is paired with, wherever that one comes from. */
function checkThresholds(overrides: ThresholdOverrides, speciesRow: SpeciesRow | null) {
  const effective = effectiveThresholds(overrides, speciesRow);
  for (const metric of THRESHOLD_METRICS) {
    const { min, max } = effective[metric];
    if (min.value !== null && max.value !== null && min.value > max.value) {
      const side = min.source === "plant" ? "min" : "max";
      throw new AppError("BAD_REQUEST", `min (${min.value}, from ${min.source}) is above max (${max.value}, from ${max.source})`, {
        path: `thresholds.${metric}.${side}`,
      });
    }
  }
}

/** The plant's species: one of the catalog or the site's own (another site's is "not found"). */
async function speciesRowOf(db: Db, siteId: string, speciesId: string | null | undefined): Promise<SpeciesRow | null> {
  if (!speciesId) return null;
  return requireVisibleSpecies(db, siteId, speciesId);
}

export interface PlantFields {
  name?: string | undefined;
  speciesId?: string | null | undefined;
  location?: string | null | undefined;
  potSizeCm?: number | null | undefined;
  potMaterial?: PlantRow["potMaterial"] | undefined;
  indoor?: boolean | undefined;
  photoUrl?: string | null | undefined;
  notes?: string | null | undefined;
  wateringIntervalDays?: number | null | undefined;
  repottedAt?: Date | null | undefined;
  thresholds?: OverrideInput | undefined;
}

const definedOnly = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export async function createPlant(db: Db, siteId: string, input: PlantFields & { name: string }, now: Date) {
  const speciesRow = await speciesRowOf(db, siteId, input.speciesId);
  const thresholdOverrides = mergeOverrides({}, input.thresholds);
  checkThresholds(thresholdOverrides, speciesRow);
  const { thresholds: _, ...fields } = input;
  const [row] = await db
    .insert(plants)
    .values({ ...definedOnly(fields), name: input.name, siteId, thresholdOverrides, createdAt: now })
    .returning();
  return getPlant(db, siteId, row!.id, now);
}

export async function updatePlant(db: Db, siteId: string, plantId: string, input: PlantFields, now: Date) {
  const current = await requirePlant(db, siteId, plantId);
  const speciesId = input.speciesId === undefined ? current.speciesId : input.speciesId;
  // A species kept from before is read as it is, even if it would no longer be offered.
  const speciesRow = input.speciesId === undefined ? await currentSpecies(db, speciesId) : await speciesRowOf(db, siteId, speciesId);
  const thresholdOverrides = mergeOverrides(current.thresholdOverrides, input.thresholds);
  checkThresholds(thresholdOverrides, speciesRow);
  const { thresholds: _, ...fields } = input;
  await db.transaction(async (tx) => {
    await tx
      .update(plants)
      .set({ ...definedOnly(fields), thresholdOverrides })
      .where(and(eq(plants.id, plantId), eq(plants.siteId, siteId)));
    // A bound that appeared or went (an override, another species) adds or removes built-in rules.
    await watchPlants(tx as unknown as Db, siteId, [plantId], now);
  });
  return getPlant(db, siteId, plantId, now);
}

async function currentSpecies(db: Db, speciesId: string | null): Promise<SpeciesRow | null> {
  if (!speciesId) return null;
  return (await db.select().from(species).where(eq(species.id, speciesId)))[0] ?? null;
}

function plantView(row: PlantRow) {
  const { thresholdOverrides: _, ...rest } = row;
  return rest;
}

/**
 * One plant with its species, the thresholds in force (each bound with its source), its watering
 * state, what measures or waters it now (each sensor since when) and the sensors it had before.
 */
export async function getPlant(db: Db, siteId: string, plantId: string, now: Date) {
  const row = await requirePlant(db, siteId, plantId);
  const speciesRow = await currentSpecies(db, row.speciesId);
  const watering = (await wateringSummaries(db, siteId, [row.id])).get(row.id)!;
  const [plantSensors, plantActuators, history] = await Promise.all([
    db
      .select({ id: sensors.id, deviceId: sensors.deviceId, key: sensors.key, metric: sensors.metric, unit: sensors.unit, name: sensors.name })
      .from(sensors)
      .where(and(eq(sensors.siteId, siteId), eq(sensors.plantId, row.id))),
    db
      .select({ id: actuators.id, deviceId: actuators.deviceId, key: actuators.key, kind: actuators.kind, name: actuators.name })
      .from(actuators)
      .where(and(eq(actuators.siteId, siteId), eq(actuators.plantId, row.id))),
    db
      .select({ sensorId: sensorAssignments.sensorId, from: sensorAssignments.startedAt, to: sensorAssignments.endedAt, deviceId: sensors.deviceId, key: sensors.key, name: sensors.name, metric: sensors.metric })
      .from(sensorAssignments)
      .innerJoin(sensors, eq(sensors.id, sensorAssignments.sensorId))
      .where(eq(sensorAssignments.plantId, row.id))
      .orderBy(desc(sensorAssignments.startedAt), desc(sensorAssignments.id)),
  ]);
  const since = new Map(history.filter((h) => h.to === null).map((h) => [h.sensorId, h.from]));
  return {
    ...plantView(row),
    species: speciesRow
      ? { id: speciesRow.id, scientificName: speciesRow.scientificName, commonNames: speciesRow.commonNames, toxicToPets: speciesRow.toxicToPets, siteId: speciesRow.siteId }
      : null,
    thresholds: effectiveThresholds(row.thresholdOverrides, speciesRow),
    watering: { ...watering, overdue: watering.nextDueAt !== null && watering.nextDueAt <= now },
    sensors: plantSensors.map((s) => ({ ...s, assignedSince: since.get(s.id) ?? null })),
    /** Sensors the plant had before, newest first: their readings of [from, to) stay the plant's. */
    pastSensors: history.filter((h) => h.to !== null).map((h) => ({ ...h, to: h.to! })),
    actuators: plantActuators,
  };
}

export async function listPlants(db: Db, siteId: string, input: { archived: boolean; cursor?: string | undefined; limit: number }) {
  const keys = keysetOf(plants.createdAt, plants.id);
  const conditions: (SQL | undefined)[] = [
    eq(plants.siteId, siteId),
    input.archived ? isNotNull(plants.archivedAt) : isNull(plants.archivedAt),
    afterCursor(keys, input.cursor, "asc"),
  ];
  const rows = await db
    .select({ plant: plants, speciesName: species.scientificName })
    .from(plants)
    .leftJoin(species, eq(species.id, plants.speciesId))
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "asc"))
    .limit(input.limit + 1);
  const page = pageOf(rows, input.limit, (r) => ({ at: r.plant.createdAt, id: r.plant.id }));
  const summaries = await wateringSummaries(db, siteId, page.items.map((r) => r.plant.id));
  return {
    items: page.items.map((r) => ({
      ...plantView(r.plant),
      speciesName: r.speciesName,
      lastWateredAt: summaries.get(r.plant.id)?.lastWateredAt ?? null,
      nextWateringDueAt: summaries.get(r.plant.id)?.nextDueAt ?? null,
    })),
    nextCursor: page.nextCursor,
  };
}

/**
 * Archived plants leave lists and stop taking new tasks and assignments; history stays. Their
 * built-in rules go (open alerts resolved) and come back when the plant is restored.
 */
export async function setPlantArchived(db: Db, siteId: string, plantId: string, archived: boolean, now: Date) {
  const current = await requirePlant(db, siteId, plantId);
  if (archived !== (current.archivedAt !== null)) {
    await db.transaction(async (tx) => {
      await tx
        .update(plants)
        .set({ archivedAt: archived ? now : null })
        .where(and(eq(plants.id, plantId), eq(plants.siteId, siteId)));
      await watchPlants(tx as unknown as Db, siteId, [plantId], now);
    });
  }
  return getPlant(db, siteId, plantId, now);
}
