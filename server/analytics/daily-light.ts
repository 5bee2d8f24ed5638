import type { Clickhouse } from "../../clickhouse/client";
import { queryLightIntegral } from "../../clickhouse/analytics/plant";
import { windowRows } from "../../clickhouse/analytics/windows";
import { DEFAULT_PPFD_PER_LUX } from "../../shared/schemas/analytics";
import { fromWallClock, toWallClock } from "../../shared/zoned-time";
import { num } from "./deps";
import { alignRange, hasWholeHourOffsets, nextBucketStart } from "./plan";

/**
 * The daily light integral of whole local days, computed as `analytics.plantMetrics` computes it
 * (each rollup bucket's mean lux × its length, × µmol/m²/s per lux), for the judgements that need
 * it outside analytics: the daily light rules and the plant status.
 */

const DAY = { kind: "day" } as const;
/**
 * A day whose light readings cover less than this share of it is not judged: a sensor that came
 * online at noon, or was silent for hours, would make any day look dark.
 */
export const MIN_LIGHT_COVERAGE = 0.75;

export interface LightDay {
  /** Local midnight starting the day, and the next one (epoch ms). */
  start: number;
  end: number;
  /** mol/m²/d; null without light readings that day. */
  dli: number | null;
  /** Share of the day covered by light readings. */
  coverage: number;
  /** Covered well enough to be judged against a range. */
  judgeable: boolean;
}

/** Every whole local day from the one holding `from` to the one ending at or after `to`, oldest first. */
export async function dailyLightIntegrals(
  ch: Clickhouse,
  sensorIds: string[],
  from: Date,
  to: Date,
  timezone: string,
  ppfdPerLux = DEFAULT_PPFD_PER_LUX,
): Promise<LightDay[]> {
  const range = alignRange(from, to, DAY, timezone);
  // The hourly rollup where local midnights fall on UTC hours, else the minute one.
  const source = hasWholeHourOffsets(timezone, range.from, range.to) ? "1h" : "1m";
  const bucketSeconds = source === "1h" ? 3600 : 60;
  // Whole local days are whole buckets of the rollup: each sensor's window is the whole range.
  const windows = sensorIds.map((sensorId) => ({ sensorId, from: range.from.getTime(), to: range.to.getTime() }));
  const rows = sensorIds.length ? await queryLightIntegral(ch, { source, timezone, light: windowRows(ch, source, windows, 0, "l") }) : [];
  const byDay = new Map(rows.map((r) => [r.day * 1000, r]));
  const days: LightDay[] = [];
  for (let start = range.from; start < range.to; ) {
    const end = nextBucketStart(start, DAY, timezone);
    const row = byDay.get(start.getTime());
    const coverage = row ? Math.min(1, (num(row.buckets) * bucketSeconds * 1000) / (end.getTime() - start.getTime())) : 0;
    days.push({ start: start.getTime(), end: end.getTime(), dli: row ? (row.lux_seconds * ppfdPerLux) / 1e6 : null, coverage, judgeable: coverage >= MIN_LIGHT_COVERAGE });
    start = end;
  }
  return days;
}

/** Local midnight of the site's day holding `at`, as an instant. */
export function startOfLocalDay(at: Date, timeZone: string): Date {
  const wall = toWallClock(at, timeZone);
  return fromWallClock(new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate())), timeZone);
}

/** The last `count` whole local days before the one holding `now`, oldest first. */
export function lastWholeDays(ch: Clickhouse, sensorIds: string[], timeZone: string, now: Date, count: number, ppfdPerLux = DEFAULT_PPFD_PER_LUX): Promise<LightDay[]> {
  const end = startOfLocalDay(now, timeZone).getTime();
  // Back `count` days less an hour (a 23-hour day of a daylight-saving change stays in), aligned to its midnight.
  return dailyLightIntegrals(ch, sensorIds, new Date(end - count * 86_400_000 + 3_600_000), new Date(end - 1), timeZone, ppfdPerLux);
}
