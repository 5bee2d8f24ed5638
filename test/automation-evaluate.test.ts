import { describe, expect, test } from "bun:test";
import { CLEAR, projectedBatteryDays, renderTemplate, step, type ConditionSpec, type MachineState } from "../server/rules/evaluate";

/** The pure parts of the engine: the state machine, the battery projection, templates. */
describe("rule state machine", () => {
  const dry: ConditionSpec = { comparison: "below", threshold: 30, hysteresis: 5, minDurationMs: 0 };
  const run = (spec: ConditionSpec, values: number[]) => {
    let state: MachineState = CLEAR;
    return values.map((value, i) => {
      const result = step(spec, state, { at: i * 1000, value });
      state = result.state;
      return result.transition;
    });
  };

  test("fires below the threshold and clears only past threshold + band; the band's edge keeps it firing", () => {
    expect(run(dry, [31, 30, 29.9, 30.1, 35, 35.01, 29])).toEqual([null, null, "fired", null, null, "cleared", "fired"]);
  });

  test("above: clears only below threshold - band", () => {
    expect(run({ ...dry, comparison: "above" }, [31, 29, 25, 24.9])).toEqual(["fired", null, null, "cleared"]);
  });

  test("minimum duration counts from the first breaching sample and restarts after a non-breaching one", () => {
    const spec = { ...dry, minDurationMs: 2000 };
    expect(run(spec, [20, 20, 31, 20, 20, 20])).toEqual([null, null, null, null, null, "fired"]);
  });
});

describe("battery projection", () => {
  test("a steady drain projects the days left; flat or charging is no projection", () => {
    const hour = 3_600_000;
    const draining = Array.from({ length: 24 }, (_, i) => ({ at: i * hour, value: 50 - i }));
    expect(projectedBatteryDays(draining)).toBeCloseTo(27 / 24, 6);
    expect(projectedBatteryDays(draining.map((p) => ({ ...p, value: 50 })))).toBeNull();
    expect(projectedBatteryDays(draining.map((p, i) => ({ ...p, value: 20 + i })))).toBeNull();
    expect(projectedBatteryDays(draining.slice(0, 2))).toBeNull();
  });
});

describe("templates", () => {
  test("known placeholders are filled as plain text; unknown ones stay; control characters cannot break lines", () => {
    expect(renderTemplate("{plant} at {value}{unit}, {nope}", { plant: "Basil\n<b>", value: 12.345, unit: "%" })).toBe("Basil <b> at 12.35%, {nope}");
    expect(renderTemplate("{sensor}", { sensor: null })).toBe("?");
    expect(renderTemplate("{plant}", { plant: "x".repeat(500) })).toHaveLength(200);
  });
});
