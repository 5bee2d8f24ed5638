import { describe, expect, test } from "bun:test";
import { parseRecurrence } from "../server/platform";
import { buildRrule, describeSchedule, parseRrule, WEEKDAYS } from "../web/src/lib/rrule";

/**
 * The dashboard's own logic that runs without a browser: the schedule form's RRULEs, checked
 * against the server's own expansion in a site's time zone. (Plant statuses are the server's,
 * `plants.status`: test/plant-status.test.ts; the cards showing them: test/web-dashboard.test.ts.)
 */

const localTimes = (instants: Date[], timeZone: string) =>
  instants.map((d) => new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d));

describe("schedules from times and weekdays", () => {
  test("times of day on every day become a daily rule the server runs at those local times, across a DST change", () => {
    const built = buildRrule({ times: ["19:00", "07:00"], days: [...WEEKDAYS] });
    expect(built).toEqual({ ok: true, rrule: "FREQ=DAILY;BYHOUR=7,19;BYMINUTE=0;BYSECOND=0" });
    if (!built.ok) return;
    // Europe/Berlin moves its clocks on 2026-03-29: the runs stay at 07:00 and 19:00 local.
    const start = new Date("2026-03-27T12:34:56Z");
    const runs = parseRecurrence(built.rrule, start, "Europe/Berlin").between(start, new Date("2026-03-31T00:00:00Z"), 20);
    expect(localTimes(runs, "Europe/Berlin")).toEqual([
      "Fri 19:00",
      "Sat 07:00",
      "Sat 19:00",
      "Sun 07:00",
      "Sun 19:00",
      "Mon 07:00",
      "Mon 19:00",
    ]);
    expect(runs[0]!.toISOString()).toBe("2026-03-27T18:00:00.000Z"); // UTC+1 before the change
    expect(runs.at(-1)!.toISOString()).toBe("2026-03-30T17:00:00.000Z"); // UTC+2 after it
  });

  test("chosen weekdays become a weekly rule run on those days only", () => {
    const built = buildRrule({ times: ["06:30"], days: ["TH", "MO"] });
    expect(built).toEqual({ ok: true, rrule: "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=6;BYMINUTE=30;BYSECOND=0" });
    if (!built.ok) return;
    const start = new Date("2026-06-01T00:00:00Z");
    const runs = parseRecurrence(built.rrule, start, "America/New_York").between(start, new Date("2026-06-15T00:00:00Z"), 10);
    expect(localTimes(runs, "America/New_York")).toEqual(["Mon 06:30", "Thu 06:30", "Mon 06:30", "Thu 06:30"]);
    expect(describeSchedule({ times: ["06:30"], days: ["TH", "MO"] })).toBe("Mon, Thu at 06:30");
  });

  test("what one rule cannot say is refused on its field, and rules from elsewhere are left to the raw editor", () => {
    expect(buildRrule({ times: ["07:00", "19:30"], days: ["MO"] })).toMatchObject({ ok: false, field: "times" });
    expect(buildRrule({ times: [], days: ["MO"] })).toMatchObject({ ok: false, field: "times" });
    expect(buildRrule({ times: ["25:00"], days: ["MO"] })).toMatchObject({ ok: false, field: "times" });
    expect(buildRrule({ times: ["07:00"], days: [] })).toMatchObject({ ok: false, field: "days" });
    for (const schedule of [
      { times: ["07:00", "19:00"], days: [...WEEKDAYS] },
      { times: ["05:15"], days: ["SA" as const, "SU" as const] },
    ]) {
      const built = buildRrule(schedule);
      expect(built.ok && parseRrule(built.rrule)).toEqual({ times: schedule.times, days: schedule.days });
    }
    expect(parseRrule("FREQ=MONTHLY;BYMONTHDAY=1")).toBeNull();
    expect(parseRrule("FREQ=DAILY;INTERVAL=2;BYHOUR=7;BYMINUTE=0;BYSECOND=0")).toBeNull();
    expect(describeSchedule({ times: ["07:00", "19:00"], days: [...WEEKDAYS] })).toBe("every day at 07:00 and 19:00");
  });
});
