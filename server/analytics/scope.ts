import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { devices, plants, sensors, sites } from "../../db/schema";
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

interface SiteSensors {
  timezone: string;
  sensors: ScopedSensor[];
  byId: Map<string, ScopedSensor>;
}

async function loadSite(db: Db, siteId: string): Promise<SiteSensors> {
  const [timezone, list] = await Promise.all([
    siteTimezone(db, siteId),
    db.select(sensorColumns).from(sensors).innerJoin(devices, eq(devices.id, sensors.deviceId)).where(eq(sensors.siteId, siteId)).orderBy(sensors.id),
  ]);
  return { timezone, sensors: list, byId: new Map(list.map((s) => [s.id, s])) };
}

/**
 * A site's sensors, kept a few seconds. Reading a thousand sensors from Postgres costs as much as
 * the ClickHouse query they scope, and dashboards ask every few seconds. Any tRPC mutation on this
 * server clears the cache (see server/trpc/trpc.ts), so a change made here shows at once; sensors
 * created by ingest or changes made on another server show within TTL_MS. Sensors never move
 * between sites, so a stale entry can miss a sensor or show an old assignment, never leak one.
 */
export class ScopeCache {
  static readonly TTL_MS = 5_000;
  static readonly MAX_SITES = 1_000;
  #entries = new Map<string, { loadedAt: number; site: Promise<SiteSensors> }>();

  get(db: Db, siteId: string): Promise<SiteSensors> {
    const now = performance.now();
    const entry = this.#entries.get(siteId);
    if (entry && now - entry.loadedAt < ScopeCache.TTL_MS) return entry.site;
    if (this.#entries.size >= ScopeCache.MAX_SITES) this.#entries.clear();
    const site = loadSite(db, siteId);
    this.#entries.set(siteId, { loadedAt: now, site });
    // A failed load is not remembered.
    site.catch(() => this.#entries.get(siteId)?.site === site && this.#entries.delete(siteId));
    return site;
  }

  clear(): void {
    this.#entries.clear();
  }
}

const caches = new WeakMap<object, ScopeCache>();
/** The scope cache of one server (keyed by its stores, so test servers in one process never share one). */
export function scopeCacheOf(owner: object): ScopeCache {
  let cache = caches.get(owner);
  if (!cache) caches.set(owner, (cache = new ScopeCache()));
  return cache;
}

export interface ScopeDeps {
  db: Db;
  scopes: ScopeCache;
}

/** Every plant id must be the site's: another site's plant is NOT_FOUND on `path`, like a missing one. */
async function requirePlants(db: Db, siteId: string, plantIds: string[], path: string): Promise<void> {
  const ids = [...new Set(plantIds)];
  const found = await db.select({ id: plants.id }).from(plants).where(and(eq(plants.siteId, siteId), inArray(plants.id, ids)));
  if (found.length !== ids.length) throw new AppError("NOT_FOUND", "plant not found", { path });
}

/** All sensors of the site, or of some of its plants. */
export async function siteScope(
  deps: ScopeDeps,
  siteId: string,
  options: { plantIds?: string[] | undefined; plantPath?: string } = {},
): Promise<SiteScope> {
  const [site] = await Promise.all([
    deps.scopes.get(deps.db, siteId),
    options.plantIds ? requirePlants(deps.db, siteId, options.plantIds, options.plantPath ?? "plantIds") : undefined,
  ]);
  const plantIds = options.plantIds ? new Set(options.plantIds) : undefined;
  return { siteId, timezone: site.timezone, sensors: plantIds ? site.sensors.filter((s) => s.plantId !== null && plantIds.has(s.plantId)) : site.sensors };
}

/**
 * The sensors a series is about: ids that must all be the site's (an unknown or foreign id is
 * NOT_FOUND on `sensorIds`, like everywhere else), or a plant's sensors of one metric.
 */
export async function selectedSensors(
  deps: ScopeDeps,
  siteId: string,
  selection: { sensorIds?: string[] | undefined; plantId?: string | undefined; metric?: Metric | undefined },
): Promise<SiteScope> {
  if (selection.sensorIds) {
    const site = await deps.scopes.get(deps.db, siteId);
    const ids = [...new Set(selection.sensorIds)];
    const list = ids.map((id) => site.byId.get(id));
    if (list.some((s) => s === undefined)) throw new AppError("NOT_FOUND", "sensor not found", { path: "sensorIds" });
    return { siteId, timezone: site.timezone, sensors: list as ScopedSensor[] };
  }
  const plantId = selection.plantId!;
  const [, site] = await Promise.all([requirePlant(deps.db, siteId, plantId), deps.scopes.get(deps.db, siteId)]);
  return { siteId, timezone: site.timezone, sensors: site.sensors.filter((s) => s.plantId === plantId && s.metric === selection.metric) };
}
