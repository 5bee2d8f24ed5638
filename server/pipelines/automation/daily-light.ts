import type { Clickhouse } from "../../../clickhouse/client";
import { lastWholeDays, startOfLocalDay } from "../../analytics";
import type { Sample } from "../../rules";

/**
 * Daily light rules are judged once per local day, on the day just ended: its daily light
 * integral as one sample at the day's end (so the state machine's "older samples are ignored"
 * makes a second judgement of the same day a no-op, on any server).
 */

/**
 * The sample to judge for the last whole local day before `now`, or null when that day was judged
 * already (`judgedUntil`: the state's last sample time) or its light readings do not cover it.
 */
export async function judgedDay(ch: Clickhouse, sensorIds: string[], timeZone: string, now: Date, judgedUntil: number | null): Promise<Sample | null> {
  if (judgedUntil !== null && judgedUntil >= startOfLocalDay(now, timeZone).getTime()) return null;
  const [day] = await lastWholeDays(ch, sensorIds, timeZone, now, 1);
  if (!day || !day.judgeable || day.dli === null) return null;
  return { at: day.end, value: day.dli };
}
