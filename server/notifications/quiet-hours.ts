import { fromWallClock, toWallClock } from "../care/zoned-time";

/**
 * Quiet hours are local wall-clock times in the site's zone ("22:00" to "07:00" spans midnight).
 * Returns when the quiet hours that contain `now` end, or null when `now` is outside them.
 */
export function quietUntil(now: Date, start: string | null, end: string | null, timeZone: string): Date | null {
  if (!start || !end || start === end) return null;
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const wall = toWallClock(now, timeZone);
  const current = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  const from = minutes(start);
  const to = minutes(end);
  const quiet = from < to ? current >= from && current < to : current >= from || current < to;
  if (!quiet) return null;
  const endWall = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), Math.floor(to / 60), to % 60));
  // Past midnight already (or the end is later today): today's end; otherwise tomorrow's.
  if (to <= current) endWall.setUTCDate(endWall.getUTCDate() + 1);
  return fromWallClock(endWall, timeZone);
}
