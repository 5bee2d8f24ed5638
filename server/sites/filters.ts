import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { actuators, automationRules, automationSchedules, devices, plants, sensors, webhookEndpoints } from "../../db/schema";
import { AppError } from "../platform";

/**
 * The ids a list or a live subscription filters by must name things of the caller's site. An id
 * of another site (or of nothing) is NOT_FOUND on its field, as everywhere else, rather than an
 * empty answer that would look like "nothing happened there".
 */

export interface SiteFilters {
  deviceId?: string | undefined;
  actuatorId?: string | undefined;
  plantId?: string | undefined;
  sensorIds?: string[] | undefined;
  ruleId?: string | undefined;
  scheduleId?: string | undefined;
  webhookId?: string | undefined;
}

const TABLES = {
  deviceId: [devices, "device"],
  actuatorId: [actuators, "actuator"],
  plantId: [plants, "plant"],
  ruleId: [automationRules, "rule"],
  scheduleId: [automationSchedules, "schedule"],
  webhookId: [webhookEndpoints, "webhook"],
} as const;

export async function requireSiteFilters(db: Db, siteId: string, filters: SiteFilters): Promise<void> {
  for (const field of Object.keys(TABLES) as (keyof typeof TABLES)[]) {
    const id = filters[field];
    if (!id) continue;
    const [table, what] = TABLES[field];
    const [row] = await db
      .select({ id: table.id })
      .from(table)
      .where(and(eq(table.id, id), eq(table.siteId, siteId)));
    if (!row) throw new AppError("NOT_FOUND", `${what} not found`, { path: field });
  }
  if (filters.sensorIds?.length) {
    const wanted = [...new Set(filters.sensorIds)];
    const found = await db
      .select({ id: sensors.id })
      .from(sensors)
      .where(and(inArray(sensors.id, wanted), eq(sensors.siteId, siteId)));
    if (found.length !== wanted.length) throw new AppError("NOT_FOUND", "sensor not found", { path: "sensorIds" });
  }
}
