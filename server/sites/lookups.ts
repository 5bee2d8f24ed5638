import { and, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { devices, plants, sensors, sites } from "../../db/schema";
import { AppError } from "../platform";

/**
 * The plant with this id in this site. A plant of another site is "not found" like a missing one,
 * with the input field it came from, so callers cannot probe other sites' ids.
 */
export async function requirePlant(db: Db, siteId: string, plantId: string, options: { path?: string; active?: boolean } = {}) {
  const path = options.path ?? "plantId";
  const [plant] = await db
    .select()
    .from(plants)
    .where(and(eq(plants.id, plantId), eq(plants.siteId, siteId)));
  if (!plant) throw new AppError("NOT_FOUND", "plant not found", { path });
  if (options.active && plant.archivedAt) throw new AppError("CONFLICT", "the plant is archived: restore it first", { path });
  return plant;
}

/** The site's IANA time zone, read where a write needs it in its own transaction (the directory has it for readers). */
export async function siteTimeZone(db: Db, siteId: string): Promise<string> {
  const [site] = await db.select({ timezone: sites.timezone }).from(sites).where(eq(sites.id, siteId));
  return site?.timezone ?? "UTC";
}

/** A sensor of this site (what it measures, its device and plant), or NOT_FOUND on `path`. */
export async function requireSiteSensor(db: Db, siteId: string, sensorId: string, path = "sensorId") {
  const [sensor] = await db
    .select({ id: sensors.id, metric: sensors.metric, deviceId: sensors.deviceId, plantId: sensors.plantId })
    .from(sensors)
    .where(and(eq(sensors.id, sensorId), eq(sensors.siteId, siteId)));
  if (!sensor) throw new AppError("NOT_FOUND", "sensor not found", { path });
  return sensor;
}

/** A device of this site, or NOT_FOUND on `path`. */
export async function requireSiteDevice(db: Db, siteId: string, deviceId: string, path = "deviceId") {
  const [device] = await db
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.id, deviceId), eq(devices.siteId, siteId)));
  if (!device) throw new AppError("NOT_FOUND", "device not found", { path });
  return device;
}
