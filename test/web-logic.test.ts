import { describe, expect, test } from "bun:test";
import { parseRecurrence } from "../server/platform";
import { derivePlantStatuses, type StatusInputs } from "../web/src/status/derive-status";
import { buildRrule, describeSchedule, parseRrule, WEEKDAYS } from "../web/src/lib/rrule";

/**
 * The dashboard's own logic that runs without a browser: the schedule form's RRULEs (checked
 * against the server's own expansion in a site's time zone) and the plant statuses the cards show.
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

describe("plant statuses", () => {
  const NOW = Date.parse("2026-06-01T12:00:00Z");
  const bound = (value: number | null, source: "plant" | "species" | "none" = "species") => ({ value, source });
  const thresholds = {
    soil_moisture: { unit: "%", min: bound(30, "plant"), max: bound(60) },
    temperature: { unit: "°C", min: bound(18), max: bound(28) },
    humidity: { unit: "%RH", min: bound(null, "none"), max: bound(null, "none") },
    light: { unit: "lx", min: bound(null, "none"), max: bound(null, "none") },
    ec: { unit: "mS/cm", min: bound(null, "none"), max: bound(null, "none") },
  };
  const sensor = (id: string, deviceId: string, metric: string, key: string, unit: string) => ({ id, deviceId, key, metric, unit, name: null });

  function inputs(values: { sensorId: string; value: number | null; ageMinutes: number | null; stale: boolean }[], plantSensors: ReturnType<typeof sensor>[], paused = false): StatusInputs {
    return {
      plants: [{ id: "p1", name: "Basil", lastWateredAt: null, nextWateringDueAt: null }],
      details: new Map([["p1", { id: "p1", thresholds, sensors: plantSensors, watering: { lastWateredAt: new Date(NOW - 86_400_000), nextDueAt: new Date(NOW + 86_400_000) } }]]),
      latest: {
        at: NOW,
        values: {
          sensorId: values.map((v) => v.sensorId),
          value: values.map((v) => v.value),
          ts: values.map((v) => (v.ageMinutes === null ? null : NOW - v.ageMinutes * 60_000)),
          ageSeconds: values.map((v) => (v.ageMinutes === null ? null : v.ageMinutes * 60)),
          stale: values.map((v) => v.stale),
        },
      },
      devices: [
        { id: "d1", batteryPercent: 64, createdAt: new Date(NOW - 30 * 86_400_000) },
        { id: "d2", batteryPercent: 12, createdAt: new Date(NOW - 30 * 86_400_000) },
      ],
      safety: new Map(paused ? [["p1", { plantId: "p1", autoWateringPaused: true, pausedReason: "moisture did not rise", pausedAt: new Date(NOW - 3_600_000) }]] : []),
    } as unknown as StatusInputs;
  }

  const soil = sensor("s1", "d1", "soil_moisture", "soil1", "%");
  const temp = sensor("s2", "d2", "temperature", "temp", "°C");

  test("values against the ranges in force: a problem names the value, the bound and where the bound comes from", () => {
    const [status] = derivePlantStatuses(inputs([{ sensorId: "s1", value: 18, ageMinutes: 2, stale: false }, { sensorId: "s2", value: 22, ageMinutes: 2, stale: false }], [temp, soil]));
    expect(status!.state).toBe("attention");
    expect(status!.metrics.map((m) => [m.metric, m.value, m.min, m.max])).toEqual([
      ["soil_moisture", 18, bound(30, "plant"), bound(60)],
      ["temperature", 22, bound(18), bound(28)],
    ]);
    expect(status!.problems).toEqual([
      { metric: "soil_moisture", sensorId: "s1", value: 18, bound: 30, direction: "below", source: "plant", since: new Date(NOW - 120_000), message: "soil moisture 18 %, below 30 %" },
    ]);
    expect(status!.battery).toEqual({ deviceId: "d2", percent: 12 });
    expect(status!.nextWateringDue).toEqual(new Date(NOW + 86_400_000));
  });

  test("all in range is OK; a silent sensor is offline news, not a problem; all silent is offline; never reported is no data", () => {
    const ok = derivePlantStatuses(inputs([{ sensorId: "s1", value: 45, ageMinutes: 1, stale: false }, { sensorId: "s2", value: 30, ageMinutes: 1, stale: false }], [soil, temp]));
    expect(ok[0]!.problems.map((p) => p.message)).toEqual(["temperature 30 °C, above 28 °C"]);
    const fine = derivePlantStatuses(inputs([{ sensorId: "s1", value: 45, ageMinutes: 1, stale: false }, { sensorId: "s2", value: 21, ageMinutes: 1, stale: false }], [soil, temp]));
    expect(fine[0]!.state).toBe("ok");
    const oneSilent = derivePlantStatuses(inputs([{ sensorId: "s1", value: 10, ageMinutes: 90, stale: true }, { sensorId: "s2", value: 21, ageMinutes: 1, stale: false }], [soil, temp]));
    expect(oneSilent[0]!.state).toBe("attention");
    expect(oneSilent[0]!.problems).toEqual([]);
    expect(oneSilent[0]!.offline).toEqual([{ sensorId: "s1", deviceId: "d1", label: "Soil moisture", lastSeenAt: new Date(NOW - 90 * 60_000), since: new Date(NOW - 90 * 60_000) }]);
    const allSilent = derivePlantStatuses(inputs([{ sensorId: "s1", value: 45, ageMinutes: 90, stale: true }, { sensorId: "s2", value: null, ageMinutes: null, stale: true }], [soil, temp]));
    expect(allSilent[0]!.state).toBe("offline");
    expect(allSilent[0]!.offline[1]!.since).toEqual(new Date(NOW - 30 * 86_400_000)); // never reported: since its device exists
    expect(derivePlantStatuses(inputs([{ sensorId: "s1", value: null, ageMinutes: null, stale: true }], [soil]))[0]!.state).toBe("no_data");
    expect(derivePlantStatuses(inputs([], []))[0]!.state).toBe("no_data");
  });

  test("paused automatic watering needs attention and says why", () => {
    const [status] = derivePlantStatuses(inputs([{ sensorId: "s1", value: 45, ageMinutes: 1, stale: false }], [soil], true));
    expect(status!.state).toBe("attention");
    expect(status!.wateringPaused).toEqual({ by: "engine", reason: "moisture did not rise", since: new Date(NOW - 3_600_000), until: null });
  });
});
