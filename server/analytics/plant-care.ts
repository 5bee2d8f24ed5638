import { eq } from "drizzle-orm";
import { queryDailyByMetric, queryLightIntegral, queryMeanPoints, queryVpdDaily } from "../../clickhouse/analytics/plant";
import { rawWindowRows, windowRows } from "../../clickhouse/analytics/windows";
import { species } from "../../db/schema";
import type { PlantMetricsInput } from "../../shared/schemas/analytics";
import { toWallClock } from "../../shared/zoned-time";
import { effectiveThresholds } from "../../shared/thresholds";
import { requirePlant } from "../sites";
import { lastWateredBetween, risesAsWatering, safetyOf } from "../watering";
import { type AnalyticsDeps, num } from "./deps";
import { alignRange, hasWholeHourOffsets, nextBucketStart, rawRetentionStart } from "./plan";
import { selectedSensors, type ScopedSensor } from "./scope";
import { windowsOfAll } from "./windows";

/**
 * Plant-care figures per local day: daily light integral, vapour pressure deficit, days within the
 * plant's ranges, and how fast its soil dries. Each metric is read from the plant's sensors inside
 * their windows with the plant and that metric (./windows.ts).
 */

const MIN_FIT_POINTS = 6;
const DAY = { kind: "day" } as const;

interface RangeTally {
  unit: string;
  min: number | null;
  max: number | null;
  daysWithData: number;
  daysWithin: number;
  daysBelow: number;
  daysAbove: number;
}

function tally(unit: string, min: number | null, max: number | null, dailyValues: (number | null)[]): RangeTally {
  const t: RangeTally = { unit, min, max, daysWithData: 0, daysWithin: 0, daysBelow: 0, daysAbove: 0 };
  for (const v of dailyValues) {
    if (v === null) continue;
    t.daysWithData++;
    if (min === null && max === null) continue; // no range to be within
    if (min !== null && v < min) t.daysBelow++;
    else if (max !== null && v > max) t.daysAbove++;
    else t.daysWithin++;
  }
  return t;
}

/** Least-squares line through points: slope per ms and the fitted value at `at`. */
export function fitLine(points: { t: number; v: number }[], at: number): { slope: number; valueAt: number } {
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mv = points.reduce((s, p) => s + p.v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.t - mt) * (p.v - mv);
    sxx += (p.t - mt) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, valueAt: mv + slope * (at - mt) };
}

export async function plantMetricsOf(deps: AnalyticsDeps, siteId: string, input: PlantMetricsInput) {
  const { db, ch } = deps;
  const plant = await requirePlant(db, siteId, input.plantId);
  const [speciesRow] = plant.speciesId ? await db.select().from(species).where(eq(species.id, plant.speciesId)) : [];
  const thresholds = effectiveThresholds(plant.thresholdOverrides, speciesRow ?? null);
  const scope = await selectedSensors(deps, siteId, { plantId: plant.id });
  const tz = scope.timezone;

  // Whole local days; the hourly rollup where local midnights are on UTC hours.
  const range = alignRange(input.from, input.to, DAY, tz);
  const source = hasWholeHourOffsets(tz, range.from, range.to) ? "1h" : "1m";
  const days: { start: Date; end: Date }[] = [];
  for (let start = range.from; start < range.to; ) {
    const end = nextBucketStart(start, DAY, tz);
    days.push({ start, end });
    start = end;
  }
  const rawStart = rawRetentionStart(deps.now, deps.rawRetentionDays).getTime();
  const windowsFor = (metric: string) => windowsOfAll(scope.sensors, { plantId: plant.id, metric, from: range.from.getTime(), to: range.to.getTime() });
  const rowsFor = (metric: string, prefix: string) => windowRows(ch, source, windowsFor(metric), rawStart, prefix);
  const q = { source, timezone: tz } as const;
  const light = windowsFor("light");
  const temperature = windowsFor("temperature");
  const humidity = windowsFor("humidity");
  const rangeMetrics = ["soil_moisture", "temperature", "humidity", "ec", "ph", "water_level"] as const;
  const measured = rangeMetrics.filter((m) => windowsFor(m).length > 0);
  const [lightRows, vpdRows, dailyRows, drying] = await Promise.all([
    light.length ? queryLightIntegral(ch, { ...q, light: windowRows(ch, source, light, rawStart, "l") }) : [],
    temperature.length && humidity.length ? queryVpdDaily(ch, { ...q, temperature: rowsFor("temperature", "t"), humidity: rowsFor("humidity", "h") }) : [],
    queryDailyByMetric(ch, { ...q, metrics: measured.map((m, i) => rowsFor(m, `m${i}_`)) }),
    dryingOf(deps, plant.id, scope.sensors, input.dryingWindowHours, thresholds.soil_moisture.min.value),
  ]);

  const lightByDay = new Map(lightRows.map((r) => [r.day * 1000, r]));
  const vpdByDay = new Map(vpdRows.map((r) => [r.day * 1000, r]));
  const sums = new Map<string, { sum: number; count: number }>(); // `${metric}|${dayMs}`
  for (const r of dailyRows) {
    const key = `${measured[num(r.m)]}|${r.day * 1000}`;
    const acc = sums.get(key) ?? { sum: 0, count: 0 };
    acc.sum += r.total;
    acc.count += num(r.n);
    sums.set(key, acc);
  }
  const bucketSeconds = source === "1h" ? 3600 : 60;

  const dayViews = days.map(({ start, end }) => {
    const seconds = (end.getTime() - start.getTime()) / 1000;
    const lightRow = lightByDay.get(start.getTime());
    const vpd = vpdByDay.get(start.getTime());
    const means = Object.fromEntries(
      rangeMetrics.map((m) => {
        const acc = sums.get(`${m}|${start.getTime()}`);
        return [m, acc && acc.count > 0 ? acc.sum / acc.count : null];
      }),
    ) as Record<(typeof rangeMetrics)[number], number | null>;
    return {
      date: toWallClock(start, tz).toISOString().slice(0, 10),
      start: start.getTime(),
      hours: seconds / 3600,
      /** mol/m²/day: ∫ lux dt × ppfdPerLux (µmol/m²/s per lux) / 10⁶. */
      dli: lightRow ? (lightRow.lux_seconds * input.ppfdPerLux) / 1e6 : null,
      /** Share of the day covered by light readings. */
      lightCoverage: lightRow ? Math.min(1, (num(lightRow.buckets) * bucketSeconds) / seconds) : 0,
      vpd: vpd ? { avg: vpd.mean, min: vpd.lo, max: vpd.hi } : null,
      means,
    };
  });

  const ranges = {
    ...Object.fromEntries(
      rangeMetrics.map((m) => [m, tally(thresholds[m].unit, thresholds[m].min.value, thresholds[m].max.value, dayViews.map((d) => d.means[m]))]),
    ),
    dli: tally("mol/m²/d", speciesRow?.dliMin ?? null, speciesRow?.dliMax ?? null, dayViews.map((d) => d.dli)),
  } as Record<(typeof rangeMetrics)[number] | "dli", RangeTally>;

  return { plantId: plant.id, timezone: tz, from: range.from.getTime(), to: range.to.getTime(), source, ppfdPerLux: input.ppfdPerLux, days: dayViews, ranges, drying };
}

/**
 * The soil's drying rate since its last watering in the window (a least-squares line through
 * 10-minute means) and when it reaches the plant's lower soil-moisture bound at that rate. A
 * watering is what the watering module says it is (`risesAsWatering`, the ledger).
 */
async function dryingOf(deps: AnalyticsDeps, plantId: string, sensors: readonly ScopedSensor[], windowHours: number, threshold: number | null) {
  const to = deps.now;
  const from = new Date(to.getTime() - windowHours * 3_600_000);
  // The plant's soil readings of the window (while each sensor was the plant's and measured soil moisture).
  const soil = windowsOfAll(sensors, { plantId, metric: "soil_moisture", from: from.getTime(), to: to.getTime() });
  if (soil.length === 0 && !sensors.some((s) => s.plantId === plantId && s.metric === "soil_moisture")) return null;
  const [points, watered, safety] = await Promise.all([
    soil.length ? queryMeanPoints(deps.ch, rawWindowRows(deps.ch, soil)) : [],
    lastWateredBetween(deps.db, plantId, from, to),
    safetyOf(deps.db, plantId),
  ]);
  let segmentStart = 0;
  for (let i = 1; i < points.length; i++) {
    if (risesAsWatering(points[i - 1]!.v, points[i]!.v, safety.detectJump) || (watered && points[i]!.t >= watered.getTime() && points[i - 1]!.t < watered.getTime())) segmentStart = i;
  }
  const segment = points.slice(segmentStart);
  if (segment.length < MIN_FIT_POINTS) return { ratePerDay: null, current: points.at(-1)?.v ?? null, startValue: null, threshold, since: null, dryBy: null, points: segment.length };
  const lastT = segment.at(-1)!.t;
  const { slope, valueAt } = fitLine(segment, lastT);
  // Where the line starts: the moisture the soil dried from (after the watering that began the segment).
  const startValue = valueAt - slope * (lastT - segment[0]!.t);
  const ratePerDay = slope * 86_400_000;
  let dryBy: number | null = null;
  if (threshold !== null && slope < 0) dryBy = lastT + Math.max(0, (valueAt - threshold) / -slope);
  return { ratePerDay, current: valueAt, startValue, threshold, since: segment[0]!.t, dryBy, points: segment.length };
}
