import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { devices, sensors, sites } from "../../db/schema";
import type { Metric } from "../../shared/metrics";
import { AppError } from "../errors";
import { requirePlant } from "../plants/lookup";

/**
 * Analytics scoping. ClickHouse knows sensor ids only; which site, device and plant a sensor
 * belongs to lives in Postgres. Every analytics call first resolves the sensors the caller may see
 * here (always within the one site `siteProcedure` checked), then filters ClickHouse by exactly
 * those ids, so a sensor id of another site can never reach a query.
 */

export interface ScopedSensor {
  id: string;
  deviceId: string;
  deviceName: string;
  key: string;
  name: string | null;
  metric: string;
  unit: string;
  plantId: string | null;
  expectedReportIntervalSeconds: number;
}

export interface SiteScope {
  siteId: string;
  timezone: string;
  sensors: ScopedSensor[];
}

const sensorColumns = {
  id: sensors.id,
  deviceId: sensors.deviceId,
  deviceName: devices.name,
  key: sensors.key,
  name: sensors.name,
  metric: sensors.metric,
  unit: sensors.unit,
  plantId: sensors.plantId,
  expectedReportIntervalSeconds: devices.expectedReportIntervalSeconds,
};

export async function siteTimezone(db: Db, siteId: string): Promise<string> {
  const [site] = await db.select({ timezone: sites.timezone }).from(sites).where(eq(sites.id, siteId));
  if (!site) throw new AppError("NOT_FOUND", "site not found", { path: "siteId" });
  return site.timezone;
}

async function sensorsWhere(db: Db, siteId: string, condition?: SQL): Promise<ScopedSensor[]> {
  return db
    .select(sensorColumns)
    .from(sensors)
    .innerJoin(devices, eq(devices.id, sensors.deviceId))
    .where(condition ? and(eq(sensors.siteId, siteId), condition) : eq(sensors.siteId, siteId))
    .orderBy(sensors.id);
}

/** All sensors of the site, or of some of its plants. */
export async function siteScope(db: Db, siteId: string, options: { plantIds?: string[] | undefined } = {}): Promise<SiteScope> {
  const [timezone, list] = await Promise.all([
    siteTimezone(db, siteId),
    sensorsWhere(db, siteId, options.plantIds ? inArray(sensors.plantId, options.plantIds) : undefined),
  ]);
  return { siteId, timezone, sensors: list };
}

/**
 * The sensors a series is about: ids that must all be the site's (an unknown or foreign id is
 * NOT_FOUND on `sensorIds`, like everywhere else), or a plant's sensors of one metric.
 */
export async function selectedSensors(
  db: Db,
  siteId: string,
  selection: { sensorIds?: string[] | undefined; plantId?: string | undefined; metric?: Metric | undefined },
): Promise<SiteScope> {
  if (selection.sensorIds) {
    const ids = [...new Set(selection.sensorIds)];
    const [timezone, list] = await Promise.all([siteTimezone(db, siteId), sensorsWhere(db, siteId, inArray(sensors.id, ids))]);
    if (list.length !== ids.length) throw new AppError("NOT_FOUND", "sensor not found", { path: "sensorIds" });
    return { siteId, timezone, sensors: list };
  }
  const plantId = selection.plantId!;
  await requirePlant(db, siteId, plantId);
  const [timezone, list] = await Promise.all([
    siteTimezone(db, siteId),
    sensorsWhere(db, siteId, and(eq(sensors.plantId, plantId), eq(sensors.metric, selection.metric!))),
  ]);
  return { siteId, timezone, sensors: list };
}
