import { and, eq, ne } from "drizzle-orm";
import type { Db } from "../../db/client";
import { devices } from "../../db/schema";
import { AppError } from "../platform";
import { getDevice, publicColumns, type DeviceSummary } from "./credentials";

/** A device of this site, or NOT_FOUND on the input field it came from. */
export async function requireDevice(db: Db, siteId: string, deviceId: string, path = "deviceId") {
  const [device] = await db
    .select({ id: devices.id, kind: devices.kind })
    .from(devices)
    .where(and(eq(devices.id, deviceId), eq(devices.siteId, siteId)));
  if (!device) throw new AppError("NOT_FOUND", "device not found", { path });
  return device;
}

export interface DeviceDetails {
  name?: string | undefined;
  kind?: DeviceSummary["kind"] | undefined;
  hardwareId?: string | null | undefined;
  firmware?: string | null | undefined;
  location?: string | null | undefined;
  expectedReportIntervalSeconds?: number | undefined;
}

/** Details a person keeps about a device; the hardware id (e.g. a MAC) is unique within the site. */
export async function updateDevice(db: Db, siteId: string, deviceId: string, input: DeviceDetails): Promise<DeviceSummary> {
  await requireDevice(db, siteId, deviceId);
  const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as DeviceDetails;
  if (changes.hardwareId) {
    const [clash] = await db
      .select({ id: devices.id })
      .from(devices)
      .where(and(eq(devices.siteId, siteId), eq(devices.hardwareId, changes.hardwareId), ne(devices.id, deviceId)));
    if (clash) throw new AppError("CONFLICT", "another device of this site has this hardware id", { path: "hardwareId" });
  }
  if (Object.keys(changes).length === 0) return getDevice(db, siteId, deviceId);
  const [device] = await db
    .update(devices)
    .set(changes)
    .where(and(eq(devices.id, deviceId), eq(devices.siteId, siteId)))
    .returning(publicColumns);
  return device!;
}
