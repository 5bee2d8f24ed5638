import { RRule, type Options } from "rrule";
import { badInput } from "./errors";
import { fromWallClock, toWallClock } from "../../shared/zoned-time";

/**
 * RFC 5545 recurrence in a site's time zone. The rule is expanded over floating wall-clock dates
 * (dtstart = the start's local time) and each occurrence converted back to an instant, so a task
 * at 08:00 stays at 08:00 local time on both sides of a daylight-saving change.
 */

/** Care tasks recur daily at most; finer rules would flood calendars. */
const ALLOWED_FREQUENCIES = [RRule.YEARLY, RRule.MONTHLY, RRule.WEEKLY, RRule.DAILY];

export interface Recurrence {
  /** First occurrence strictly after (or, with `inclusive`, at) an instant; null when the rule has ended. */
  after(instant: Date, inclusive?: boolean): Date | null;
  /** Occurrences in [from, to), at most `limit`. */
  between(from: Date, to: Date, limit: number): Date[];
}

export function parseRecurrence(rrule: string, startsAt: Date, timeZone: string, path = "rrule"): Recurrence {
  let options: Partial<Options>;
  try {
    options = RRule.parseString(rrule);
  } catch (error) {
    throw badInput(path, `not a valid RRULE: ${(error as Error).message}`);
  }
  const positiveInt = (v: unknown) => v === undefined || v === null || (Number.isInteger(Number(v)) && Number(v) >= 1);
  if (options.freq === undefined || !ALLOWED_FREQUENCIES.includes(options.freq)) {
    throw badInput(path, "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY");
  }
  if (!positiveInt(options.interval)) throw badInput(path, "INTERVAL must be a whole number of at least 1");
  if (!positiveInt(options.count)) throw badInput(path, "COUNT must be a whole number of at least 1");
  if (Array.isArray(options.byweekday) && options.byweekday.some((d) => d === null || d === undefined)) {
    throw badInput(path, "BYDAY must list days such as MO,TU or 1MO");
  }
  const rule = new RRule({
    ...options,
    count: options.count === undefined || options.count === null ? null : Number(options.count),
    tzid: null,
    dtstart: toWallClock(startsAt, timeZone),
  });
  try {
    rule.after(toWallClock(startsAt, timeZone), true);
  } catch (error) {
    throw badInput(path, `not a valid RRULE: ${(error as Error).message}`);
  }
  const DAY = 86_400_000;
  return {
    after(instant, inclusive = false) {
      // Search from a day before in wall-clock terms, then compare real instants: the offset
      // between the two timelines is at most a day.
      let cursor = new Date(toWallClock(instant, timeZone).getTime() - DAY);
      for (let i = 0; i < 1000; i++) {
        const next = rule.after(cursor, false);
        if (!next) return null;
        const at = fromWallClock(next, timeZone);
        if (at > instant || (inclusive && at.getTime() === instant.getTime())) return at;
        cursor = next;
      }
      return null;
    },
    between(from, to, limit) {
      const wallFrom = new Date(toWallClock(from, timeZone).getTime() - DAY);
      const wallTo = new Date(toWallClock(to, timeZone).getTime() + DAY);
      return rule
        .between(wallFrom, wallTo, true, (_, i) => i < limit + 4)
        .map((d) => fromWallClock(d, timeZone))
        .filter((at) => at >= from && at < to)
        .slice(0, limit);
    },
  };
}
