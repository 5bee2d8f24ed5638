import type { ReadingWindow } from "../../clickhouse/analytics/windows";
import type { Metric } from "../../shared/metrics";
import { AppError } from "../platform";
import type { SensorFacts, SiteDirectory, SiteFacts } from "../sites";
import { windowsOf } from "./windows";

/**
 * Analytics scoping. ClickHouse knows sensor ids only; which site, device and plant a sensor
 * belongs to lives in Postgres, and the site directory keeps it. Every analytics call first
 * resolves the sensors the caller may see (always within the one site `siteProcedure` checked),
 * then filters ClickHouse by exactly those ids, so a sensor id of another site can never reach a
 * query. A plant's sensors are every sensor that was ever assigned to it, each read only inside
 * its windows with the plant (./windows.ts).
 */

export type ScopedSensor = SensorFacts;

export interface SiteScope {
  siteId: string;
  timezone: string;
  sensors: readonly ScopedSensor[];
}

export interface ScopeDeps {
  directory: SiteDirectory;
}

async function siteOf(deps: ScopeDeps, siteId: string): Promise<SiteFacts> {
  const site = await deps.directory.site(siteId);
  if (!site) throw new AppError("NOT_FOUND", "site not found", { path: "siteId" });
  return site;
}

/**
 * The site's facts, read again once if some of `ids` are not in them yet (a plant or sensor made a
 * moment ago on another server, whose change event is still on its way); still missing: NOT_FOUND
 * on `path`, like an id of another site.
 */
async function siteHaving(deps: ScopeDeps, siteId: string, has: (site: SiteFacts) => boolean, what: string, path: string): Promise<SiteFacts> {
  let site = await siteOf(deps, siteId);
  if (has(site)) return site;
  site = (await deps.directory.refresh(siteId)) ?? site;
  if (!has(site)) throw new AppError("NOT_FOUND", `${what} not found`, { path });
  return site;
}

/** All sensors of the site, or of some of its plants. */
export async function siteScope(
  deps: ScopeDeps,
  siteId: string,
  options: { plantIds?: string[] | undefined; plantPath?: string } = {},
): Promise<SiteScope> {
  const plantIds = options.plantIds;
  if (!plantIds) {
    const site = await siteOf(deps, siteId);
    return { siteId, timezone: site.timezone, sensors: site.sensorList };
  }
  const site = await siteHaving(deps, siteId, (s) => plantIds.every((id) => s.plants.has(id)), "plant", options.plantPath ?? "plantIds");
  const wanted = new Set(plantIds);
  return { siteId, timezone: site.timezone, sensors: site.sensorList.filter((s) => s.plantId !== null && wanted.has(s.plantId)) };
}

/** A selection by plant: which plant (and metric) each sensor's windows are cut for. */
export interface Selection extends SiteScope {
  plant?: { plantId: string; metric?: string | undefined };
  /** A selection by sensor ids: the site's sensors by device (what else a chart's device has). */
  sensorsByDevice?: SiteFacts["sensorsByDevice"];
}

/**
 * The sensors a series is about: ids that must all be the site's (an unknown or foreign id is
 * NOT_FOUND on `sensorIds`, like everywhere else), or the sensors that were ever the plant's (the
 * windows of a range say which readings count: `inRange`).
 */
export async function selectedSensors(
  deps: ScopeDeps,
  siteId: string,
  selection: { sensorIds?: string[] | undefined; plantId?: string | undefined; metric?: Metric | undefined },
): Promise<Selection> {
  if (selection.sensorIds) {
    const ids = [...new Set(selection.sensorIds)];
    const site = await siteHaving(deps, siteId, (s) => ids.every((id) => s.sensors.has(id)), "sensor", "sensorIds");
    return { siteId, timezone: site.timezone, sensors: ids.map((id) => site.sensors.get(id)!), sensorsByDevice: site.sensorsByDevice };
  }
  const plantId = selection.plantId!;
  const site = await siteHaving(deps, siteId, (s) => s.plants.has(plantId), "plant", "plantId");
  return { siteId, timezone: site.timezone, sensors: site.sensorsEverOfPlant.get(plantId) ?? [], plant: { plantId, metric: selection.metric } };
}

/** A plant selection over a range: the sensors with readings to read for the plant, and their windows. */
export interface PlantRange {
  sensors: readonly ScopedSensor[];
  windows: ReadingWindow[];
  /** sensor id → its windows. */
  windowsOf: Map<string, ReadingWindow[]>;
}

export function inRange(selection: Selection & { plant: NonNullable<Selection["plant"]> }, from: Date, to: Date): PlantRange {
  const byId = new Map<string, ReadingWindow[]>();
  for (const sensor of selection.sensors) {
    const windows = windowsOf(sensor, { ...selection.plant, from: from.getTime(), to: to.getTime() });
    if (windows.length) byId.set(sensor.id, windows);
  }
  return { sensors: selection.sensors.filter((s) => byId.has(s.id)), windows: [...byId.values()].flat(), windowsOf: byId };
}
