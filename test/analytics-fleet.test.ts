import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { localDate, localMidnights, postReadings, type Reading } from "./support/analytics";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

/**
 * Fleet-wide analytics (analytics.fleetSeries, analytics.crossing) through the typed client, over
 * readings ingested through /v1/ingest. Every expected number is computed here from the readings
 * the test sent. Values are multiples of 0.25, so sums are exact in any order and averages can be
 * compared with toBe: an answer that missed or double-counted one reading would differ.
 */

const PASSWORD = "correct horse battery";
const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const TZ = "Europe/Berlin";
// Real time matters: ClickHouse applies the raw TTL against its own clock, so readings must be recent.
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE;
// 26 hours of readings every 20 s, ending before NOW.
const T0 = Math.floor(NOW / HOUR) * HOUR - 26 * HOUR;
const STEP = 20 * SECOND;
const COUNT = (26 * HOUR) / STEP;

interface Stats {
  count: number;
  sum: number;
  min: number;
  max: number;
}

function statsOf(values: number[]): Stats {
  return { count: values.length, sum: values.reduce((a, b) => a + b, 0), min: Math.min(...values), max: Math.max(...values) };
}

/** Readings of one sensor key: a base level and a repeating pattern in steps of 0.25. */
function readingsOf(sensor: string, base: number, salt: number): Reading[] {
  return Array.from({ length: COUNT }, (_, k) => ({ sensor, ts: T0 + k * STEP, value: base + ((k * 7 + salt * 3) % 41) * 0.25 }));
}

for (const engine of postgresEngines) {
  describe(`fleet-wide analytics on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let viewer: ReturnType<TestServer["client"]>;
    let siteId: string;
    const clock = testClock(new Date(NOW));
    // Sensor id → the readings sent for it (the soil sensors of the site).
    const sent = new Map<string, Reading[]>();
    let silentSoilId: string;
    let temperatureId: string;
    let foreignSoilId: string;
    // Sensor id → (device name, key) of every sensor of the site.
    const described = new Map<string, { device: string; key: string }>();

    const soilA1 = readingsOf("soil1", 20, 1);
    const soilA2 = readingsOf("soil2", 30, 2);
    const tempA = readingsOf("temp", 18, 3);
    const soilB1 = readingsOf("soil1", 10, 4);

    async function provision(client: ReturnType<TestServer["client"]>, site: string, name: string) {
      return (await client.devices.provision.mutate({ siteId: site, name })) as { device: { id: string }; token: string };
    }
    async function keysOf(client: ReturnType<TestServer["client"]>, site: string, deviceId: string) {
      const { items } = await client.sensors.list.query({ siteId: site, deviceId, limit: 100 });
      return Object.fromEntries(items.map((s) => [s.key, s.id])) as Record<string, string>;
    }

    beforeAll(async () => {
      // Raw readings kept 3 days (ingest takes 2): enough for the 26 hours sent; a window older than that shows the refusal.
      server = await startTestServer(engine, { now: clock.now, retention: { rawDays: 3, rollupDays: 730 } });
      const owner = await server.client().auth.register.mutate({ email: `fleet-${engine}@example.com`, password: PASSWORD, displayName: "O", timezone: TZ, client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;

      const a = await provision(api, siteId, "bench A");
      const b = await provision(api, siteId, "bench B");
      await postReadings(server, a.token, [...soilA1, ...soilA2, ...tempA]);
      await postReadings(server, b.token, soilB1);
      const keysA = await keysOf(api, siteId, a.device.id);
      const keysB = await keysOf(api, siteId, b.device.id);
      for (const [key, id] of Object.entries(keysA)) described.set(id, { device: a.device.id, key });
      for (const [key, id] of Object.entries(keysB)) described.set(id, { device: b.device.id, key });
      sent.set(keysA.soil1!, soilA1);
      sent.set(keysA.soil2!, soilA2);
      sent.set(keysB.soil1!, soilB1);
      temperatureId = keysA.temp!;
      // A soil sensor that never reported: listed by fleetSeries (no values), never crossing.
      silentSoilId = (await api.sensors.create.mutate({ siteId, deviceId: b.device.id, key: "soil9", metric: "soil_moisture" })).id;
      described.set(silentSoilId, { device: b.device.id, key: "soil9" });

      // Another account's site with a soil sensor of its own: never part of this site's answers.
      const other = await server.client().auth.register.mutate({ email: `fleet-other-${engine}@example.com`, password: PASSWORD, displayName: "X", client: "app" });
      const otherApi = server.client(other.token!);
      const c = await provision(otherApi, other.personalSiteId, "elsewhere");
      await postReadings(server, c.token, readingsOf("soil1", 0, 5));
      foreignSoilId = (await keysOf(otherApi, other.personalSiteId, c.device.id)).soil1!;

      // A viewer of the site reads fleet analytics like any member.
      const v = await server.client().auth.register.mutate({ email: `fleet-viewer-${engine}@example.com`, password: PASSWORD, displayName: "V", client: "app" });
      await api.sites.invite.mutate({ siteId, email: `fleet-viewer-${engine}@example.com`, role: "viewer" });
      viewer = server.client(v.token!);
    });
    afterAll(() => server.close());

    /** Expected per-sensor buckets from the sent readings: bucket key of each reading's time. */
    function expectedBuckets(readings: Reading[], from: number, to: number, keyOf: (ts: number) => number): Map<number, Stats> {
      const groups = new Map<number, number[]>();
      for (const r of readings) {
        if (r.ts < from || r.ts >= to) continue;
        const key = keyOf(r.ts);
        let values = groups.get(key);
        if (!values) groups.set(key, (values = []));
        values.push(r.value);
      }
      return new Map([...groups].map(([k, v]) => [k, statsOf(v)]));
    }

    type FleetAnswer = Awaited<ReturnType<typeof api.analytics.fleetSeries.query>>;
    /** Every soil sensor of the site once, the silent one empty, each bucket as the readings say. */
    function checkFleet(res: FleetAnswer, keyOf: (ts: number) => number) {
      expect([...res.values.sensorId].sort()).toEqual([...sent.keys(), silentSoilId].sort());
      expect(res.values.sensorId).not.toContain(temperatureId);
      expect(res.values.sensorId).not.toContain(foreignSoilId);
      for (const column of [res.values.avg, res.values.min, res.values.max, res.values.count]) {
        expect(column).toHaveLength(res.values.sensorId.length);
        for (const row of column) expect(row).toHaveLength(res.t.length);
      }
      let filled = 0;
      res.values.sensorId.forEach((id, i) => {
        const expected = expectedBuckets(sent.get(id) ?? [], res.from, res.to, keyOf);
        res.t.forEach((t, j) => {
          const e = expected.get(t);
          if (!e) {
            expect([res.values.avg[i]![j], res.values.min[i]![j], res.values.max[i]![j], res.values.count[i]![j]]).toEqual([null, null, null, 0]);
            return;
          }
          filled++;
          expect(res.values.count[i]![j]).toBe(e.count);
          expect(res.values.avg[i]![j]).toBe(e.sum / e.count);
          expect(res.values.min[i]![j]).toBe(e.min);
          expect(res.values.max[i]![j]).toBe(e.max);
        });
        // Every bucket holding readings is one of the answer's.
        for (const t of expected.keys()) expect(res.t).toContain(t);
      });
      expect(filled).toBeGreaterThan(0);
    }

    describe("fleetSeries", () => {
      test("hourly buckets of every soil sensor of the site, from the hourly rollup", async () => {
        const from = T0 + 2 * HOUR;
        const res = await api.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", from: new Date(from), to: new Date(from + 24 * HOUR), bucket: "1h" });
        expect(res.source).toBe("1h");
        expect(res.bucket).toBe("1h");
        expect(res.metric).toBe("soil_moisture");
        expect(res.t).toEqual(Array.from({ length: 24 }, (_, j) => from + j * HOUR));
        checkFleet(res, (ts) => Math.floor(ts / HOUR) * HOUR);
        expect(res.sensors).toBeUndefined();
      });

      test("5-minute buckets come from the minute rollup and 30-second ones from raw readings; ranges widen to whole buckets", async () => {
        const five = await api.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", from: new Date(T0 + 3 * HOUR + 7 * MINUTE), to: new Date(T0 + 6 * HOUR + MINUTE), bucket: "5m" });
        expect(five.source).toBe("1m");
        expect(five.from).toBe(T0 + 3 * HOUR + 5 * MINUTE);
        expect(five.to).toBe(T0 + 6 * HOUR + 5 * MINUTE);
        checkFleet(five, (ts) => Math.floor(ts / 300_000) * 300_000);
        const half = await api.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", from: new Date(T0 + 20 * HOUR), to: new Date(T0 + 21 * HOUR), bucket: "30s" });
        expect(half.source).toBe("raw");
        expect(half.t).toHaveLength(120);
        checkFleet(half, (ts) => Math.floor(ts / 30_000) * 30_000);
      });

      test("daily buckets start at the site's local midnights", async () => {
        const res = await api.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", from: new Date(T0), to: new Date(NOW), bucket: "1d" });
        const midnights = localMidnights(T0 - 2 * DAY, NOW + 2 * DAY, TZ);
        const startOf = (ts: number) => midnights.get(localDate(ts, TZ))!;
        expect(res.timezone).toBe(TZ);
        expect(res.t[0]).toBe(startOf(T0));
        expect(res.t.every((t) => localDate(t, TZ) !== localDate(t - 1, TZ))).toBe(true);
        checkFleet(res, startOf);
      });

      test("auto picks the smallest bucket within maxPoints; withSensors says what each sensor is, in the same order", async () => {
        const res = await viewer.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", from: new Date(T0 + HOUR), to: new Date(T0 + 25 * HOUR), maxPoints: 10, withSensors: true });
        // 24 hours: 3-hour buckets make 8 points, hourly ones 24.
        expect(res.bucket).toBe("3h");
        expect(res.t.length).toBeLessThanOrEqual(10);
        checkFleet(res, (ts) => Math.floor(ts / (3 * HOUR)) * 3 * HOUR);
        res.values.sensorId.forEach((id, i) => {
          expect(res.sensors!.key[i]).toBe(described.get(id)!.key);
          expect(res.sensors!.deviceId[i]).toBe(described.get(id)!.device);
          expect(res.sensors!.metric[i]).toBe("soil_moisture");
          expect(res.sensors!.unit[i]).toBe("%");
        });
      });

      test("a metric without sensors in the site answers empty columns", async () => {
        const res = await api.analytics.fleetSeries.query({ siteId, metric: "ph", from: new Date(T0), to: new Date(NOW), bucket: "1h" });
        expect(res.values.sensorId).toEqual([]);
        expect(res.values.avg).toEqual([]);
        expect(res.t.length).toBeGreaterThan(0);
      });

      test("bad input names the field, and an answer too large for one call is refused", async () => {
        const metric = await failureOf(api.analytics.fleetSeries.query({ siteId, metric: "moisture" as "ph", from: new Date(T0), to: new Date(NOW) }));
        expect(metric.code).toBe("BAD_REQUEST");
        expect(metric.issues.map((i) => i.path)).toContain("metric");
        const range = await failureOf(api.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", from: new Date(NOW), to: new Date(T0) }));
        expect(range.issues.map((i) => i.path)).toContain("to");
        const buckets = await failureOf(api.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", from: new Date(NOW - 5 * DAY), to: new Date(NOW), bucket: "10s" }));
        expect(buckets.code).toBe("BAD_REQUEST");
        expect(buckets.issues.map((i) => i.path)).toContain("bucket");

        // 60 sensors × 8,640 one-minute buckets (6 days) is over the 500,000 values an answer may hold.
        const big = await api.sites.create.mutate({ name: "many sensors" });
        for (const name of ["rack 1", "rack 2"]) {
          const { device } = await provision(api, big.id, name);
          for (let k = 0; k < 30; k++) await api.sensors.create.mutate({ siteId: big.id, deviceId: device.id, key: `soil${k}`, metric: "soil_moisture" });
        }
        const cells = await failureOf(api.analytics.fleetSeries.query({ siteId: big.id, metric: "soil_moisture", from: new Date(NOW - 6 * DAY), to: new Date(NOW), bucket: "1m" }));
        expect(cells.code).toBe("BAD_REQUEST");
        expect(cells.issues.map((i) => i.path)).toContain("bucket");
        expect(cells.message).toContain("60 sensors");
        // auto stays within the cap instead: 500,000 / 60 sensors leaves 8,333 buckets, 1-minute ones would be 8,640.
        const auto = await api.analytics.fleetSeries.query({ siteId: big.id, metric: "soil_moisture", from: new Date(NOW - 6 * DAY), to: new Date(NOW), maxPoints: 10_000 });
        expect(auto.bucket).toBe("5m");
        expect(auto.values.sensorId).toHaveLength(60);
      });
    });

    describe("crossing", () => {
      /** The sensors whose aggregate over [from, to] (both included) crosses, from the sent readings. */
      function expectedCrossing(from: number, to: number, aggregate: "avg" | "min" | "max", comparison: "below" | "above", threshold: number) {
        const out: { sensorId: string; value: number; count: number }[] = [];
        for (const [sensorId, readings] of sent) {
          const values = readings.filter((r) => r.ts >= from && r.ts <= to).map((r) => r.value);
          if (values.length === 0) continue;
          const s = statsOf(values);
          const value = aggregate === "avg" ? s.sum / s.count : aggregate === "min" ? s.min : s.max;
          if (comparison === "below" ? value < threshold : value > threshold) out.push({ sensorId, value, count: s.count });
        }
        return out.sort((x, y) => (comparison === "below" ? x.value - y.value : y.value - x.value));
      }

      type CrossingAnswer = Awaited<ReturnType<typeof api.analytics.crossing.query>>;
      const rowsOf = (res: CrossingAnswer) => res.values.sensorId.map((sensorId, i) => ({ sensorId, value: res.values.value[i]!, count: res.values.count[i]! }));

      test("the sensors whose average over a window is below a bound, lowest first, with exact values", async () => {
        // Both edges on a reading, neither on a whole minute: raw edges, minute and hourly rollups between.
        const from = T0 + 4 * STEP; // T0 + 1 min 20 s
        const to = T0 + 25 * HOUR + 2 * STEP; // … + 40 s
        const sums = [...sent.values()].map((r) => statsOf(r.filter((x) => x.ts >= from && x.ts <= to).map((x) => x.value)));
        // A bound between the averages, so that some cross and some do not.
        const averages = sums.map((s) => s.sum / s.count).sort((a, b) => a - b);
        const threshold = (averages[1]! + averages[2]!) / 2;
        const expected = expectedCrossing(from, to, "avg", "below", threshold);
        expect(expected).toHaveLength(2);
        const res = await api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(from), to: new Date(to), aggregate: "avg", comparison: "below", threshold });
        expect(rowsOf(res)).toEqual(expected);
        expect(res.sensors).toBe(4); // the silent sensor is one of the site's, never crossing
        expect(res.from).toBe(from);
        expect(res.to).toBe(to);
      });

      test("readings exactly at from and at to are in the window, as an aggregate rule counts them", async () => {
        // Three readings: at from, between, at to (all within one minute: raw only).
        const from = T0 + 10 * HOUR + STEP;
        const to = from + 2 * STEP;
        const expected = expectedCrossing(from, to, "max", "above", -1);
        expect(expected.every((e) => e.count === 3)).toBe(true);
        const res = await api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(from), to: new Date(to), aggregate: "max", comparison: "above", threshold: -1 });
        expect(rowsOf(res)).toEqual(expected);
        // One millisecond less on each side leaves only the middle reading.
        const inner = await api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(from + 1), to: new Date(to - 1), aggregate: "max", comparison: "above", threshold: -1 });
        expect(rowsOf(inner)).toEqual(expectedCrossing(from + 1, to - 1, "max", "above", -1));
        expect(inner.values.count.every((c) => c === 1)).toBe(true);
      });

      test("min above and max below, over windows of every shape", async () => {
        const windows: [number, number][] = [
          [T0 + 5 * HOUR, T0 + 17 * HOUR - 1], // whole hours only
          [T0 + 5 * HOUR + 3 * MINUTE, T0 + 6 * HOUR + 42 * MINUTE - 1], // whole minutes only, across an hour boundary
          [T0 + 7 * HOUR + 13 * SECOND, T0 + 8 * HOUR + 50 * MINUTE + 7 * SECOND], // minutes and raw edges, no whole hour inside
          [T0 + 9 * HOUR + 13 * SECOND, T0 + 9 * HOUR + 50 * MINUTE + 7 * SECOND], // under an hour: raw readings only
          [T0, NOW], // everything sent
        ];
        for (const [from, to] of windows) {
          for (const [aggregate, comparison] of [["min", "above"], ["max", "below"], ["avg", "above"]] as const) {
            const all = expectedCrossing(from, to, aggregate, comparison, comparison === "above" ? -Infinity : Infinity);
            const threshold = all.length > 1 ? (all[0]!.value + all[1]!.value) / 2 : 0;
            const res = await api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(from), to: new Date(to), aggregate, comparison, threshold });
            expect(rowsOf(res)).toEqual(expectedCrossing(from, to, aggregate, comparison, threshold));
            expect(res.values.sensorId.length).toBe(1);
          }
        }
      });

      test("a window whose edge needs raw readings past their retention is refused; on whole minutes the rollups answer", async () => {
        const old = Math.floor((NOW - 4 * DAY) / MINUTE) * MINUTE;
        const refused = await failureOf(api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(old + 17 * SECOND), to: new Date(NOW), aggregate: "avg", comparison: "below", threshold: 100 }));
        expect(refused.code).toBe("BAD_REQUEST");
        expect(refused.issues.map((i) => i.path)).toContain("from");
        const res = await api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(old), to: new Date(NOW), aggregate: "avg", comparison: "below", threshold: 100 });
        expect(rowsOf(res)).toEqual(expectedCrossing(old, NOW, "avg", "below", 100));
        expect(res.values.sensorId).toHaveLength(3);
        // A short window back then, on whole minutes, is the rollups' too (nothing was sent then).
        const short = await api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(old), to: new Date(old + 30 * MINUTE - 1), aggregate: "avg", comparison: "below", threshold: 100 });
        expect(short.values.sensorId).toEqual([]);
        const shortRefused = await failureOf(api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(old), to: new Date(old + 30 * MINUTE), aggregate: "avg", comparison: "below", threshold: 100 }));
        expect(shortRefused.issues.map((i) => i.path)).toContain("to");
      });

      test("bad input names the field; another metric's sensors are never in the answer", async () => {
        const aggregate = await failureOf(api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(T0), to: new Date(NOW), aggregate: "median" as "avg", comparison: "below", threshold: 1 }));
        expect(aggregate.issues.map((i) => i.path)).toContain("aggregate");
        const comparison = await failureOf(api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(T0), to: new Date(NOW), aggregate: "avg", comparison: "under" as "below", threshold: 1 }));
        expect(comparison.issues.map((i) => i.path)).toContain("comparison");
        const threshold = await failureOf(api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(T0), to: new Date(NOW), aggregate: "avg", comparison: "below", threshold: "low" as unknown as number }));
        expect(threshold.issues.map((i) => i.path)).toContain("threshold");
        const temperature = await api.analytics.crossing.query({ siteId, metric: "temperature", from: new Date(T0), to: new Date(NOW), aggregate: "max", comparison: "above", threshold: -1 });
        expect(temperature.values.sensorId).toEqual([temperatureId]);
        expect(temperature.values.count).toEqual([COUNT]);
      });
    });
  });
}
