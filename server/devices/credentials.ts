import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { devices } from "../../db/schema";
import { notFound } from "../errors";
import { generateDeviceToken, hashToken, tokenHint } from "../auth/tokens";
import { announceDeviceCredentials } from "../events/changes";

/**
 * Device credentials: provisioning and rotation return the token once; only its hash is kept.
 * Rotation replaces the hash, so the old token stops matching immediately.
 */

export const publicColumns = {
  id: devices.id,
  siteId: devices.siteId,
  name: devices.name,
  kind: devices.kind,
  hardwareId: devices.hardwareId,
  firmware: devices.firmware,
  location: devices.location,
  expectedReportIntervalSeconds: devices.expectedReportIntervalSeconds,
  batteryPercent: devices.batteryPercent,
  lastSeenAt: devices.lastSeenAt,
  tokenHint: devices.tokenHint,
  tokenRotatedAt: devices.tokenRotatedAt,
  revokedAt: devices.revokedAt,
  createdAt: devices.createdAt,
};

export type DeviceSummary = {
  id: string;
  siteId: string;
  name: string;
  kind: "sensor" | "actuator" | "combined";
  hardwareId: string | null;
  firmware: string | null;
  location: string | null;
  expectedReportIntervalSeconds: number;
  batteryPercent: number | null;
  lastSeenAt: Date | null;
  tokenHint: string;
  tokenRotatedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
};

export async function provisionDevice(db: Db, siteId: string, input: { name: string }): Promise<{ device: DeviceSummary; token: string }> {
  const token = generateDeviceToken();
  const [device] = await db
    .insert(devices)
    .values({ siteId, name: input.name, tokenHash: hashToken(token), tokenHint: tokenHint(token) })
    .returning(publicColumns);
  return { device: device!, token };
}

export async function listDevices(db: Db, siteId: string): Promise<DeviceSummary[]> {
  return db.select(publicColumns).from(devices).where(eq(devices.siteId, siteId)).orderBy(asc(devices.createdAt), asc(devices.id));
}

export async function getDevice(db: Db, siteId: string, deviceId: string): Promise<DeviceSummary> {
  const [device] = await db
    .select(publicColumns)
    .from(devices)
    .where(and(eq(devices.id, deviceId), eq(devices.siteId, siteId)));
  if (!device) throw notFound("device");
  return device;
}

/** A new token for the device; the old one stops working. A revoked device is re-enabled by rotation. */
export async function rotateDeviceToken(
  db: Db,
  siteId: string,
  deviceId: string,
  now: Date,
): Promise<{ device: DeviceSummary; token: string; previousTokenHash: string }> {
  const [current] = await db
    .select({ tokenHash: devices.tokenHash })
    .from(devices)
    .where(and(eq(devices.id, deviceId), eq(devices.siteId, siteId)));
  if (!current) throw notFound("device");
  const token = generateDeviceToken();
  const [device] = await db
    .update(devices)
    .set({ tokenHash: hashToken(token), tokenHint: tokenHint(token), tokenRotatedAt: now, revokedAt: null })
    .where(and(eq(devices.id, deviceId), eq(devices.siteId, siteId)))
    .returning(publicColumns);
  await announceDeviceCredentials(db, { siteId, deviceId, change: "rotated" });
  return { device: device!, token, previousTokenHash: current.tokenHash };
}

export async function revokeDevice(db: Db, siteId: string, deviceId: string, now: Date): Promise<{ device: DeviceSummary; tokenHash: string }> {
  const [device] = await db
    .update(devices)
    .set({ revokedAt: now })
    .where(and(eq(devices.id, deviceId), eq(devices.siteId, siteId)))
    .returning({ ...publicColumns, tokenHash: devices.tokenHash });
  if (!device) throw notFound("device");
  await announceDeviceCredentials(db, { siteId, deviceId, change: "revoked" });
  const { tokenHash, ...summary } = device;
  return { device: summary, tokenHash };
}
