import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { users } from "../../db/schema";
import type { AlertSeverity } from "../../shared/schemas/alerts";
import { fromWallClock, toWallClock } from "../../shared/zoned-time";

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

export interface QuietHours {
  quietStart: string | null;
  quietEnd: string | null;
}

/**
 * Until when a notification to this endpoint is held, or null to send it now: the endpoint's own
 * quiet hours (in the site's zone) and its recipient's (in the recipient's zone, else the site's),
 * whichever ends later. Critical notifications go through when the endpoint says so.
 */
export function heldUntil(
  now: Date,
  severity: AlertSeverity,
  endpoint: QuietHours & { criticalBypassesQuiet: boolean },
  siteTimezone: string,
  recipient: (QuietHours & { quietTimezone: string | null }) | null,
): Date | null {
  if (severity === "critical" && endpoint.criticalBypassesQuiet) return null;
  const own = quietUntil(now, endpoint.quietStart, endpoint.quietEnd, siteTimezone);
  const theirs = recipient ? quietUntil(now, recipient.quietStart, recipient.quietEnd, recipient.quietTimezone ?? siteTimezone) : null;
  if (!own) return theirs;
  if (!theirs) return own;
  return own > theirs ? own : theirs;
}

export interface UserQuietHours extends QuietHours {
  /** IANA zone of the times; null: the zone of the site a notification is about. */
  timezone: string | null;
}

export async function userQuietHours(db: Db, userId: string): Promise<UserQuietHours> {
  const [row] = await db
    .select({ quietStart: users.quietStart, quietEnd: users.quietEnd, timezone: users.quietTimezone })
    .from(users)
    .where(eq(users.id, userId));
  return row ?? { quietStart: null, quietEnd: null, timezone: null };
}

/** Sets (or, with null times, clears) a person's quiet hours; queued deliveries are re-checked when sent. */
export async function setUserQuietHours(db: Db, userId: string, input: UserQuietHours): Promise<UserQuietHours> {
  await db
    .update(users)
    .set({ quietStart: input.quietStart, quietEnd: input.quietEnd, quietTimezone: input.timezone })
    .where(eq(users.id, userId));
  return userQuietHours(db, userId);
}
