import { inArray } from "drizzle-orm";
import { queryLatest } from "../../clickhouse/analytics/latest";
import type { Clickhouse } from "../../clickhouse/client";
import { type ExcursionBounds, queryExcursions } from "../../clickhouse/plant-status";
import type { Db } from "../../db/client";
import { devices } from "../../db/schema";
import type { Metric } from "../../shared/metrics";
import type { PlantProblem, PlantStatus, PlantStatusMetric, SilentSensor } from "../../shared/schemas/plant-status";
import type { Bound, ThresholdsInForce } from "../../shared/thresholds";
import { lastWholeDays, type LightDay, staleAfterMs, startOfLocalDay } from "../analytics";
import { AppError } from "../platform";
import type { PlantFacts, SensorFacts, SiteDirectory, SiteFacts } from "../sites";
import { pauseHolds, safetyRowsOf, wateringSummaries } from "../watering";
import { bandOf, cleared, defaultBand, DLI_BAND, labelOf, lightProblem, wording, type Direction } from "./status-problems";

/**
 * Plant status: for each plant, its latest values against the ranges in force, what is wrong now
 * and since when, which sensors are silent, its lowest battery, its watering and whether automatic
 * watering is paused. Site facts come from the site directory; latest values, excursions and the
 * daily light integral from ClickHouse; activity (batteries, waterings, pauses) from Postgres.
 *
 * - A problem is a value out of its range, kept until the value comes back past the hysteresis
 *   band of the plant's rule for that bound (its built-in rule's, else the built-in default), so
 *   status and alerts agree on when it is over; "since" is the first reading out of range after
 *   the last one past the band, looked for in the 7 days before the latest reading. Minimum
 *   durations are the alerts' business: the status says what is true now.
 * - Light is judged by the daily light integral of whole local days against the species' range
 *   (the lux of a moment says nothing: every night is dark), over the last 7 days.
 * - A sensor is silent when its latest reading is older than its device's report interval allows
 *   (as `analytics.latest` judges staleness), or when it never reported.
 */

export interface StatusDeps {
  db: Db;
  ch: Clickhouse;
  directory: SiteDirectory;
  now: Date;
}

export interface StatusAnswer {
  items: PlantStatus[];
  /** When some status will change by time alone (a value turning stale, a pause running out, a new day of light), epoch ms. */
  nextChangeAt: number | null;
}

const DAY_MS = 86_400_000;
const EXCURSION_LOOKBACK_MS = 7 * DAY_MS;
const LIGHT_DAYS = 7;

interface Latest {
  value: number;
  at: number;
}

/** The status of one plant of the site, or of every living plant (by name). */
export async function plantStatuses(deps: StatusDeps, siteId: string, plantId?: string): Promise<StatusAnswer> {
  const site = await siteWith(deps.directory, siteId, plantId);
  const plants = plantId
    ? [site.plants.get(plantId)!]
    : [...site.plants.values()].filter((p) => !p.archived).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const wanted = new Set(plants.map((p) => p.id));
  const sensorsOf = new Map<string, SensorFacts[]>(plants.map((p) => [p.id, []]));
  for (const s of site.sensorList) if (s.plantId && wanted.has(s.plantId)) sensorsOf.get(s.plantId)!.push(s);
  const allSensors = [...sensorsOf.values()].flat();
  const now = deps.now.getTime();

  const latestRows = await queryLatest(deps.ch, allSensors.map((s) => s.id));
  const latest = new Map<string, Latest>(latestRows.sensor_id.map((id, i) => [id, { value: latestRows.v[i]!, at: latestRows.t_ms[i]! }]));

  // Which sensors may be in an excursion (latest value not past the band on some side): only those are looked up.
  const excursionBounds: ExcursionBounds[] = [];
  let lookbackFrom = now - EXCURSION_LOOKBACK_MS;
  for (const plant of plants) {
    const ids = sensorsOf.get(plant.id)!.map((s) => s.id);
    for (const sensor of sensorsOf.get(plant.id)!) {
      const range = rangeOf(plant, sensor.metric);
      const last = latest.get(sensor.id);
      if (!range || !last || sensor.metric === "light") continue;
      const band = (d: Direction) => bandOf(site.rules, plant.id, ids, "threshold", sensor.metric, d, defaultBand(sensor.metric, range.min, range.max));
      const low = range.min.value;
      const high = range.max.value;
      const lowOpen = low !== null && !cleared(last.value, "below", low, band("below"));
      const highOpen = high !== null && !cleared(last.value, "above", high, band("above"));
      if (!lowOpen && !highOpen) continue;
      excursionBounds.push({
        sensorId: sensor.id,
        low: lowOpen ? { bound: low, clear: low + band("below") } : null,
        high: highOpen ? { bound: high, clear: high - band("above") } : null,
      });
      lookbackFrom = Math.min(lookbackFrom, last.at - EXCURSION_LOOKBACK_MS);
    }
  }

  const lightPlants = plants.filter((p) => (p.dli.min.value !== null || p.dli.max.value !== null) && sensorsOf.get(p.id)!.some((s) => s.metric === "light"));
  const deviceIds = [...new Set(plants.flatMap((p) => devicesOf(site, p.id, sensorsOf.get(p.id)!)))];
  const plantIds = plants.map((p) => p.id);
  const [excursions, lightDays, batteries, watering, safety] = await Promise.all([
    queryExcursions(deps.ch, excursionBounds, lookbackFrom),
    Promise.all(
      lightPlants.map(async (p) => {
        const ids = sensorsOf.get(p.id)!.filter((s) => s.metric === "light").map((s) => s.id);
        return [p.id, await lastWholeDays(deps.ch, ids, site.timezone, deps.now, LIGHT_DAYS)] as const;
      }),
    ).then((entries) => new Map(entries)),
    deviceIds.length
      ? deps.db.select({ id: devices.id, percent: devices.batteryPercent }).from(devices).where(inArray(devices.id, deviceIds))
      : Promise.resolve([] as { id: string; percent: number | null }[]),
    wateringSummaries(deps.db, siteId, plantIds),
    safetyRowsOf(deps.db, plantIds),
  ]);
  const batteryOf = new Map(batteries.map((b) => [b.id, b.percent]));

  let nextChangeAt: number | null = null;
  const changesAt = (at: number) => {
    if (at > now && (nextChangeAt === null || at < nextChangeAt)) nextChangeAt = at;
  };
  if (lightPlants.length > 0) changesAt(startOfLocalDay(new Date(startOfLocalDay(deps.now, site.timezone).getTime() + 30 * 3_600_000), site.timezone).getTime());

  const items = plants.map((plant): PlantStatus => {
    const plantSensors = sensorsOf.get(plant.id)!;
    const ids = plantSensors.map((s) => s.id);
    const metrics: PlantStatusMetric[] = [];
    const problems: PlantProblem[] = [];
    const offline: SilentSensor[] = [];
    for (const sensor of plantSensors) {
      const last = latest.get(sensor.id);
      const staleAfter = staleAfterMs(sensor.expectedReportIntervalSeconds);
      const stale = !last || now - last.at > staleAfter;
      const range = rangeOf(plant, sensor.metric);
      metrics.push({
        metric: sensor.metric as Metric,
        sensorId: sensor.id,
        label: sensor.label,
        unit: sensor.unit,
        value: last?.value ?? null,
        at: last ? new Date(last.at) : null,
        stale,
        min: range?.min ?? { value: null, source: "none" },
        max: range?.max ?? { value: null, source: "none" },
      });
      if (stale) {
        offline.push({
          sensorId: sensor.id,
          deviceId: sensor.deviceId,
          label: sensor.label,
          lastSeenAt: last ? new Date(last.at) : null,
          since: new Date((last?.at ?? sensor.createdAt.getTime()) + staleAfter),
        });
      } else {
        changesAt(last.at + staleAfter + 1);
      }
      const excursion = excursions.get(sensor.id);
      if (!range || !last || !excursion) continue;
      for (const direction of ["below", "above"] as const) {
        const since = direction === "below" ? excursion.lowSince : excursion.highSince;
        const bound = direction === "below" ? range.min : range.max;
        if (since === null || bound.value === null) continue;
        const band = bandOf(site.rules, plant.id, ids, "threshold", sensor.metric, direction, defaultBand(sensor.metric, range.min, range.max));
        problems.push({
          metric: sensor.metric as Metric,
          sensorId: sensor.id,
          value: last.value,
          bound: bound.value,
          direction,
          source: bound.source,
          since: new Date(since),
          message: wording(labelOf(sensor.metric), last.value, sensor.unit, direction, bound.value, band),
        });
      }
    }
    const days = lightDays.get(plant.id);
    const lightSensor = plantSensors.find((s) => s.metric === "light");
    if (days && lightSensor) problems.push(...lightProblems(site, plant, ids, lightSensor, days));

    const reported = metrics.some((m) => m.at !== null);
    const state = plantSensors.length === 0 || !reported ? "no_data" : offline.length === plantSensors.length ? "offline" : problems.length > 0 || offline.length > 0 ? "attention" : "ok";
    const row = safety.get(plant.id);
    const paused = pauseHolds(row, deps.now) ? row! : null;
    if (paused?.pausedUntil) changesAt(paused.pausedUntil.getTime());
    const summary = watering.get(plant.id);
    return {
      plantId: plant.id,
      name: plant.name,
      state,
      metrics,
      problems,
      offline,
      battery: lowestBattery(devicesOf(site, plant.id, plantSensors), batteryOf),
      lastWateredAt: summary?.lastWateredAt ?? null,
      nextWateringDue: summary?.nextDueAt ?? null,
      wateringPaused: paused
        ? { by: paused.pausedBy ?? "engine", reason: paused.pausedReason ?? "paused", since: paused.pausedAt ?? paused.updatedAt, until: paused.pausedUntil }
        : null,
    };
  });
  return { items, nextChangeAt };
}

/** The site's facts, read again once if the plant is not in them yet (made a moment ago on another server). */
async function siteWith(directory: SiteDirectory, siteId: string, plantId: string | undefined): Promise<SiteFacts> {
  let site = await directory.site(siteId);
  if (!site) throw new AppError("NOT_FOUND", "site not found", { path: "siteId" });
  if (plantId && !site.plants.has(plantId)) site = (await directory.refresh(siteId)) ?? site;
  if (plantId && !site.plants.has(plantId)) throw new AppError("NOT_FOUND", "plant not found", { path: "plantId" });
  return site;
}

/** The range in force for a metric, if plants have ranges for it. */
function rangeOf(plant: PlantFacts, metric: string): { min: Bound; max: Bound } | undefined {
  return Object.hasOwn(plant.ranges, metric) ? plant.ranges[metric as keyof ThresholdsInForce] : undefined;
}

/** Devices measuring or watering the plant (not revoked). */
function devicesOf(site: SiteFacts, plantId: string, plantSensors: SensorFacts[]): string[] {
  const ids = [...plantSensors.map((s) => s.deviceId), ...[...site.actuators.values()].filter((a) => a.plantId === plantId).map((a) => a.deviceId)];
  return [...new Set(ids)].filter((id) => site.devices.get(id)?.revoked === false);
}

function lowestBattery(deviceIds: string[], batteryOf: Map<string, number | null>): PlantStatus["battery"] {
  let lowest: PlantStatus["battery"] = null;
  for (const deviceId of deviceIds) {
    const percent = batteryOf.get(deviceId);
    if (percent !== null && percent !== undefined && (lowest === null || percent < lowest.percent)) lowest = { deviceId, percent };
  }
  return lowest;
}

function lightProblems(site: SiteFacts, plant: PlantFacts, sensorIds: string[], sensor: SensorFacts, days: LightDay[]): PlantProblem[] {
  const problems: PlantProblem[] = [];
  for (const direction of ["below", "above"] as const) {
    const bound = direction === "below" ? plant.dli.min : plant.dli.max;
    if (bound.value === null) continue;
    const band = bandOf(site.rules, plant.id, sensorIds, "daily_light", "light", direction, DLI_BAND);
    const problem = lightProblem(sensor, days, direction, bound.value, band, bound.source);
    if (problem) problems.push(problem);
  }
  return problems;
}
