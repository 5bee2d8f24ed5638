/**
 * Schedules as people say them — "Mondays and Thursdays at 07:00 and 19:00" — turned into the
 * RFC 5545 RRULE the server expands in the site's time zone, and back. The times go into the rule
 * itself (BYHOUR/BYMINUTE), so the schedule's start only says from when it applies.
 */

export const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const WEEKDAY_NAMES: Record<Weekday, string> = { MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" };

export interface SimpleSchedule {
  /** Local times "HH:MM". */
  times: string[];
  days: Weekday[];
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

export type BuildResult = { ok: true; rrule: string } | { ok: false; field: "times" | "days"; message: string };

export function buildRrule(schedule: SimpleSchedule): BuildResult {
  const times = [...new Set(schedule.times.map((t) => t.trim()).filter(Boolean))].sort();
  if (times.length === 0) return { ok: false, field: "times", message: "give at least one time of day" };
  const bad = times.find((t) => !TIME.test(t));
  if (bad) return { ok: false, field: "times", message: `${bad} is not a time such as 07:30` };
  const minutes = new Set(times.map((t) => t.slice(3)));
  // One rule multiplies its hours by its minutes: 07:00 and 19:30 would also run at 07:30 and 19:00.
  if (minutes.size > 1) return { ok: false, field: "times", message: "times in one schedule must share their minutes (07:00 and 19:00); make a second schedule for 07:30" };
  if (schedule.days.length === 0) return { ok: false, field: "days", message: "pick at least one day" };
  const hours = times.map((t) => Number(t.slice(0, 2)));
  const at = `BYHOUR=${hours.join(",")};BYMINUTE=${Number([...minutes][0])};BYSECOND=0`;
  const days = WEEKDAYS.filter((d) => schedule.days.includes(d));
  return { ok: true, rrule: days.length === 7 ? `FREQ=DAILY;${at}` : `FREQ=WEEKLY;BYDAY=${days.join(",")};${at}` };
}

/** The simple form of a rule this page wrote; null for anything else (shown as the raw rule). */
export function parseRrule(rrule: string): SimpleSchedule | null {
  const parts = new Map(
    rrule
      .replace(/^RRULE:/i, "")
      .split(";")
      .filter(Boolean)
      .map((p) => p.split("=") as [string, string]),
  );
  const keys = [...parts.keys()].sort().join(",");
  const freq = parts.get("FREQ");
  if (freq === "DAILY" ? keys !== "BYHOUR,BYMINUTE,BYSECOND,FREQ" : freq === "WEEKLY" ? keys !== "BYDAY,BYHOUR,BYMINUTE,BYSECOND,FREQ" : true) return null;
  const minute = Number(parts.get("BYMINUTE"));
  const hours = parts.get("BYHOUR")!.split(",").map(Number);
  if (!Number.isInteger(minute) || hours.some((h) => !Number.isInteger(h) || h < 0 || h > 23) || parts.get("BYSECOND") !== "0") return null;
  const days = freq === "DAILY" ? [...WEEKDAYS] : (parts.get("BYDAY")!.split(",") as Weekday[]);
  if (days.some((d) => !WEEKDAYS.includes(d))) return null;
  const pad = (n: number) => String(n).padStart(2, "0");
  return { times: hours.map((h) => `${pad(h)}:${pad(minute)}`), days };
}

/** "every day at 07:00 and 19:00", "Mon, Thu at 07:00" */
export function describeSchedule(schedule: SimpleSchedule): string {
  const days =
    schedule.days.length === 7
      ? "every day"
      : schedule.days.length === 5 && !schedule.days.includes("SA") && !schedule.days.includes("SU")
        ? "on weekdays"
        : WEEKDAYS.filter((d) => schedule.days.includes(d))
            .map((d) => WEEKDAY_NAMES[d])
            .join(", ");
  const times = [...schedule.times].sort();
  const list = times.length > 1 ? `${times.slice(0, -1).join(", ")} and ${times.at(-1)}` : times[0];
  return `${days} at ${list}`;
}
