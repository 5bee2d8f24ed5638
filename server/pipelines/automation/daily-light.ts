import type { Clickhouse } from "../../../clickhouse/client";
import { fromWallClock, toWallClock } from "../../../shared/zoned-time";
import { dailyLightIntegrals } from "../../analytics";
import type { Sample } from "../../rules";

/**
 * Daily light rules are judged once per local day, on the day just ended: its daily light
 * integral as one sample at the day's end (so the state machine's "older samples are ignored"
 * makes a second judgement of the same day a no-op, on any server).
 */

/** Local midnight of the site's day holding `at`, as an instant. */
export function startOfLocalDay(at: Date, timeZone: string): Date {
  const wall = toWallClock(at, timeZone);
  return fromWallClock(new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate())), timeZone);
}

/**
 * The sample to judge for the last whole local day before `now`, or null when that day was judged
 * already (`judgedUntil`: the state's last sample time) or its light readings do not cover it.
 */
export async function judgedDay(ch: Clickhouse, sensorIds: string[], timeZone: string, now: Date, judgedUntil: number | null): Promise<Sample | null> {
  const end = startOfLocalDay(now, timeZone);
  if (judgedUntil !== null && judgedUntil >= end.getTime()) return null;
  const [day] = await dailyLightIntegrals(ch, sensorIds, new Date(end.getTime() - 1), new Date(end.getTime() - 1), timeZone);
  if (!day || !day.judgeable || day.dli === null) return null;
  return { at: day.end, value: day.dli };
}
