import { describe, expect, test } from "bun:test";
import superjson from "superjson";
import { lineUp, planOf } from "../server/analytics/latest";
import { alignRange, bucketKind, hasWholeHourOffsets, planSeries, sourceFor } from "../server/analytics/plan";
import type { ScopedSensor } from "../server/analytics/scope";
import { rowsOf } from "../shared/columns";
import { transformer } from "../shared/transformer";
import { localDate } from "./support/analytics";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("series plans (pure)", () => {
  test("zones whose offset is not a whole number of hours are recognised", () => {
    const from = new Date("2025-01-01T00:00:00Z");
    const to = new Date("2026-12-31T00:00:00Z");
    expect(hasWholeHourOffsets("Europe/Berlin", from, to)).toBe(true);
    expect(hasWholeHourOffsets("America/New_York", from, to)).toBe(true);
    expect(hasWholeHourOffsets("UTC", from, to)).toBe(true);
    expect(hasWholeHourOffsets("Asia/Kolkata", from, to)).toBe(false);
    expect(hasWholeHourOffsets("Asia/Kathmandu", from, to)).toBe(false);
    // +10:30 in winter, +11 in summer: the half-hour shows in one season only.
    expect(hasWholeHourOffsets("Australia/Lord_Howe", from, to)).toBe(false);
    expect(sourceFor(bucketKind("1d"), "Asia/Kolkata", from, to)).toBe("1m");
    expect(sourceFor(bucketKind("1mo"), "Europe/Berlin", from, to)).toBe("1h");
    expect(sourceFor(bucketKind("15m"), "Europe/Berlin", from, to)).toBe("1m");
    expect(sourceFor(bucketKind("30s"), "Europe/Berlin", from, to)).toBe("raw");
  });

  test("calendar ranges widen to local midnights, Mondays and first days of months", () => {
    const tz = "America/New_York";
    // 2026-11-01 is the autumn change in New York (25 hours).
    const day = alignRange(new Date("2026-11-01T12:00:00Z"), new Date("2026-11-01T13:00:00Z"), bucketKind("1d"), tz);
    expect(day.from.toISOString()).toBe("2026-11-01T04:00:00.000Z");
    expect(day.to.toISOString()).toBe("2026-11-02T05:00:00.000Z");
    expect(day.to.getTime() - day.from.getTime()).toBe(25 * HOUR);
    const week = alignRange(new Date("2026-11-04T12:00:00Z"), new Date("2026-11-05T12:00:00Z"), bucketKind("1w"), tz);
    expect(localDate(week.from.getTime(), tz)).toBe("2026-11-02"); // a Monday
    expect(week.to.getTime() - week.from.getTime()).toBe(7 * DAY);
    const month = alignRange(new Date("2026-03-15T12:00:00Z"), new Date("2026-04-02T00:00:00Z"), bucketKind("1mo"), "Europe/Berlin");
    expect(month.from.toISOString()).toBe("2026-02-28T23:00:00.000Z");
    expect(month.to.toISOString()).toBe("2026-04-30T22:00:00.000Z");
  });

  test("a range ending exactly on a bucket boundary is not widened by another bucket", () => {
    const from = new Date("2026-11-01T00:00:00Z");
    const plan = planSeries({ from, to: new Date(from.getTime() + 6 * HOUR), bucket: "1h", maxPoints: 500, percentiles: false }, { timezone: "UTC", now: new Date("2026-11-02T00:00:00Z"), rawRetentionDays: 90 });
    expect(plan.to.getTime() - plan.from.getTime()).toBe(6 * HOUR);
    expect(plan.source).toBe("1h");
  });
});

describe("the wire format", () => {
  test("plain JSON is sent as superjson's own output, without a walk; anything else goes through superjson", () => {
    const plain = { a: [1, 2.5, "x", null, true, { b: [] }], t: 1_700_000_000_000 };
    expect(transformer.serialize(plain)).toEqual(superjson.serialize(plain));
    expect(transformer.deserialize(transformer.serialize(plain))).toEqual(plain);
    const special = { at: new Date("2026-01-01T00:00:00Z"), n: Number.NaN, big: 10n, nothing: undefined, set: new Set([1]) };
    const round = transformer.deserialize(JSON.parse(JSON.stringify(transformer.serialize(special)))) as typeof special;
    expect(round.at).toEqual(special.at);
    expect(round.n).toBeNaN();
    expect(round.big).toBe(10n);
    expect("nothing" in round).toBe(true);
    expect(round.set).toEqual(new Set([1]));
  });
});

describe("latest values lined up with the sensors (pure)", () => {
  const sensor = (id: string, expectedReportIntervalSeconds: number): ScopedSensor => ({
    id, deviceId: "d", deviceName: "d", key: id.slice(0, 4), name: null, label: id.slice(0, 4), metric: "temperature", unit: "°C", plantId: null,
    calibration: null, expectedReportIntervalSeconds, createdAt: new Date(0), assignments: [], pastMetrics: [],
  });
  const a = sensor("00000000-0000-4000-8000-00000000000b", 60);
  const b = sensor("ffffffff-0000-4000-8000-00000000000a", 3600);
  const c = sensor("11111111-0000-4000-8000-00000000000c", 60);
  const never = sensor("22222222-0000-4000-8000-00000000000a", 60);
  const NOW = 1_800_000_000_000;

  test("rows in any order land on their sensors, in the list's order; each sensor's own interval decides staleness", () => {
    const list = [a, b, c, never];
    const plan = planOf(list);
    expect(planOf(list)).toBe(plan); // made once per list object
    // b reported 20 minutes ago (hourly device: fresh), a and c 5 minutes ago (minutely: stale), never nothing.
    const rows = { sensor_id: [c.id, b.id, a.id], v: [19, 7, 21.5], t_ms: [NOW - 299_400, NOW - 1_200_000, NOW - 300_000] };
    const values = lineUp(plan, rows, NOW);
    expect(rowsOf(values)).toEqual([
      { sensorId: a.id, value: 21.5, ts: NOW - 300_000, ageSeconds: 300, stale: true },
      { sensorId: b.id, value: 7, ts: NOW - 1_200_000, ageSeconds: 1200, stale: false },
      { sensorId: c.id, value: 19, ts: NOW - 299_400, ageSeconds: 299, stale: true },
      { sensorId: never.id, value: null, ts: null, ageSeconds: null, stale: true },
    ]);
    expect(lineUp(plan, { sensor_id: [], v: [], t_ms: [] }, NOW).stale).toEqual([true, true, true, true]);
  });
});
