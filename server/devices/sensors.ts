import { and, desc, eq, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { sensorCalibrations, sensors } from "../../db/schema";
import { applyCalibration, isMetric, METRIC_UNITS, type Calibration } from "../../shared/metrics";
import { afterCursor, AppError, keysetOf, orderBy, pageOf } from "../platform";
import { watchPlants } from "../rules";
import { requirePlant } from "../sites";
import { requireDevice } from "./devices";
import { assignmentsOfSensor, closeMetricPeriod, metricsOfSensor, moveAssignment } from "./sensor-history";

/**
 * Sensors as devices name them, with what they measure, the plant they watch, and a two-point
 * calibration whose every change is kept in `sensor_calibrations`. Assignments to plants and
 * changes of metric are kept as history (./sensor-history.ts), so old readings stay with the plant
 * and the metric they were taken under. A plant that gets (or loses) a sensor gets (or loses) its
 * built-in rules in the same transaction (server/rules/built-in.ts).
 */

type SensorRow = typeof sensors.$inferSelect;

export function calibrationOf(row: SensorRow): Calibration | null {
  const { calibrationRawLow: rawLow, calibrationValueLow: valueLow, calibrationRawHigh: rawHigh, calibrationValueHigh: valueHigh } = row;
  if (rawLow === null || valueLow === null || rawHigh === null || valueHigh === null) return null;
  return { rawLow, valueLow, rawHigh, valueHigh };
}

function sensorView(row: SensorRow) {
  const { calibrationRawLow: _a, calibrationValueLow: _b, calibrationRawHigh: _c, calibrationValueHigh: _d, ...rest } = row;
  return { ...rest, calibration: calibrationOf(row) };
}
export type SensorView = ReturnType<typeof sensorView>;

async function requireSensor(db: Db, siteId: string, sensorId: string): Promise<SensorRow> {
  const [row] = await db
    .select()
    .from(sensors)
    .where(and(eq(sensors.id, sensorId), eq(sensors.siteId, siteId)));
  if (!row) throw new AppError("NOT_FOUND", "sensor not found", { path: "sensorId" });
  return row;
}

export async function getSensor(db: Db, siteId: string, sensorId: string) {
  return sensorView(await requireSensor(db, siteId, sensorId));
}

export async function listSensors(db: Db, siteId: string, input: { deviceId?: string | undefined; plantId?: string | undefined; cursor?: string | undefined; limit: number }) {
  if (input.deviceId) await requireDevice(db, siteId, input.deviceId);
  if (input.plantId) await requirePlant(db, siteId, input.plantId);
  const keys = keysetOf(sensors.createdAt, sensors.id);
  const conditions: (SQL | undefined)[] = [eq(sensors.siteId, siteId), afterCursor(keys, input.cursor, "asc")];
  if (input.deviceId) conditions.push(eq(sensors.deviceId, input.deviceId));
  if (input.plantId) conditions.push(eq(sensors.plantId, input.plantId));
  const rows = await db
    .select()
    .from(sensors)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "asc"))
    .limit(input.limit + 1);
  const page = pageOf(rows, input.limit, (r) => ({ at: r.createdAt, id: r.id }));
  return { items: page.items.map(sensorView), nextCursor: page.nextCursor };
}

export async function createSensor(
  db: Db,
  siteId: string,
  input: { deviceId: string; key: string; metric: string; unit?: string | undefined; name?: string | null | undefined; plantId?: string | null | undefined },
  actor: { userId: string | null; now: Date },
) {
  await requireDevice(db, siteId, input.deviceId);
  if (input.plantId) await requirePlant(db, siteId, input.plantId, { active: true });
  const unit = input.unit ?? (isMetric(input.metric) ? METRIC_UNITS[input.metric] : "");
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    const [row] = await tx
      .insert(sensors)
      .values({ siteId, deviceId: input.deviceId, key: input.key, metric: input.metric, unit, name: input.name ?? null, plantId: input.plantId ?? null, createdAt: actor.now })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new AppError("CONFLICT", "this device already has a sensor with this key", { path: "key" });
    if (row.plantId) await moveAssignment(tx, row, row.plantId, actor);
    await watchPlants(tx, siteId, [row.plantId], actor.now);
    return sensorView(row);
  });
}

/**
 * Name, metric and unit. A new metric or unit takes effect from now: what the sensor measured
 * until now is kept as a period of its history, so its old readings keep their metric.
 */
export async function updateSensor(
  db: Db,
  siteId: string,
  input: { sensorId: string; metric?: string | undefined; unit?: string | undefined; name?: string | null | undefined },
  actor: { userId: string | null; now: Date },
) {
  const current = await requireSensor(db, siteId, input.sensorId);
  const changes: Partial<SensorRow> = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.metric !== undefined) {
    changes.metric = input.metric;
    // A new metric brings its unit unless one is given.
    if (input.unit === undefined && input.metric !== current.metric && isMetric(input.metric)) changes.unit = METRIC_UNITS[input.metric];
  }
  if (input.unit !== undefined) changes.unit = input.unit;
  if (Object.keys(changes).length === 0) return sensorView(current);
  const remeasured = (changes.metric ?? current.metric) !== current.metric || (changes.unit ?? current.unit) !== current.unit;
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    if (remeasured) await closeMetricPeriod(tx, current, actor);
    const [row] = await tx.update(sensors).set(changes).where(eq(sensors.id, current.id)).returning();
    if (row!.metric !== current.metric) await watchPlants(tx, siteId, [row!.plantId], actor.now);
    return sensorView(row!);
  });
}

/**
 * Assigns the sensor to a plant (or, with null, to none) from now on: the current assignment ends
 * and the next begins in one transaction, so readings taken until now stay with the plant they
 * were taken in. Assigning to the plant it already has changes nothing. The plant it leaves may
 * lose built-in rules, the one it joins may gain some.
 */
export async function assignSensor(db: Db, siteId: string, sensorId: string, plantId: string | null, actor: { userId: string | null; now: Date }) {
  const current = await requireSensor(db, siteId, sensorId);
  if (plantId) await requirePlant(db, siteId, plantId, { active: true });
  if (current.plantId === plantId) return sensorView(current);
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    await moveAssignment(tx, current, plantId, actor);
    const [row] = await tx.update(sensors).set({ plantId }).where(eq(sensors.id, current.id)).returning();
    await watchPlants(tx, siteId, [current.plantId, plantId], actor.now);
    return sensorView(row!);
  });
}

/** Which plants the sensor measured and when, newest first (the current assignment has `to: null`). */
export async function sensorAssignmentHistory(db: Db, siteId: string, sensorId: string) {
  await requireSensor(db, siteId, sensorId);
  return assignmentsOfSensor(db, sensorId);
}

/** What the sensor measured over time, newest first (the current metric has `to: null`). */
export async function sensorMetricHistory(db: Db, siteId: string, sensorId: string) {
  return metricsOfSensor(db, await requireSensor(db, siteId, sensorId));
}

/**
 * Sets (or, with null, clears) the sensor's calibration and appends it to the history in one
 * transaction, so the history never misses a change that took effect.
 */
export async function setCalibration(db: Db, siteId: string, sensorId: string, calibration: Calibration | null, actor: { userId: string; now: Date }) {
  const current = await requireSensor(db, siteId, sensorId);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(sensors)
      .set({
        calibrationRawLow: calibration?.rawLow ?? null,
        calibrationValueLow: calibration?.valueLow ?? null,
        calibrationRawHigh: calibration?.rawHigh ?? null,
        calibrationValueHigh: calibration?.valueHigh ?? null,
      })
      .where(eq(sensors.id, current.id))
      .returning();
    await tx.insert(sensorCalibrations).values({
      sensorId: current.id,
      rawLow: calibration?.rawLow ?? null,
      valueLow: calibration?.valueLow ?? null,
      rawHigh: calibration?.rawHigh ?? null,
      valueHigh: calibration?.valueHigh ?? null,
      changedBy: actor.userId,
      changedAt: actor.now,
    });
    return sensorView(row!);
  });
}

/** Every calibration the sensor had, newest first; entries with null values are clearings. */
export async function calibrationHistory(db: Db, siteId: string, sensorId: string) {
  await requireSensor(db, siteId, sensorId);
  const rows = await db
    .select()
    .from(sensorCalibrations)
    .where(eq(sensorCalibrations.sensorId, sensorId))
    .orderBy(desc(sensorCalibrations.changedAt), desc(sensorCalibrations.id));
  return rows.map((r) => ({
    id: r.id,
    calibration: r.rawLow === null || r.valueLow === null || r.rawHigh === null || r.valueHigh === null ? null : { rawLow: r.rawLow, valueLow: r.valueLow, rawHigh: r.rawHigh, valueHigh: r.valueHigh },
    changedBy: r.changedBy,
    changedAt: r.changedAt,
  }));
}

/** What a raw reading of this sensor means under its current calibration. */
export async function previewCalibration(db: Db, siteId: string, sensorId: string, raw: number) {
  const row = await requireSensor(db, siteId, sensorId);
  const calibration = calibrationOf(row);
  return { raw, value: applyCalibration(raw, calibration), unit: row.unit, calibrated: calibration !== null };
}
