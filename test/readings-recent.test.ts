import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { aggregateBySensor } from "../clickhouse/automation";
import { queryCrossing, type CrossingColumns } from "../clickhouse/analytics/crossing";
import { queryFleetSeries } from "../clickhouse/analytics/fleet-series";
import { queryRows } from "../clickhouse/client";
import { forgetReadings, mirrorsOf } from "../clickhouse/mirror";
import { WriteClock } from "../clickhouse/mirror/writes";
import { gardenOwner, post, type Api, type Reading } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * On embedded chDB, windows of raw readings an hour or shorter (analytics.crossing, aggregate
 * rules) are summed from the recent readings the server keeps in memory (clickhouse/mirror/recent.ts),
 * kept by ingest's flushes: the answers must stay exactly the engine's, to the millisecond at the
 * window's edges, however reads and writes interleave. A fleet's buckets (analytics.fleetSeries)
 * come from the chart buckets kept the same way (clickhouse/mirror/series.ts), calendar days
 * summed from hourly ones.
 */

const MINUTE = 60_000;
type Aggregate = "avg" | "min" | "max";
type Comparison = "below" | "above";

for (const engine of postgresEngines) {
  describe(`windows judged from memory on ${engine}`, () => {
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let ids: Record<string, string>;
    const keys = ["soil1", "soil2", "soil3", "soil4"];
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 50 * MINUTE;
    // A window that starts and ends between readings: [t0 + 10 min + 0.5 s, t0 + 40 min].
    const W = { from: t0 + 10 * MINUTE + 500, to: t0 + 40 * MINUTE };

    const ch = () => server.stores.clickhouse;
    const soilIds = () => keys.map((k) => ids[k]!).filter(Boolean);

    async function apiCrossing(from: number, to: number, aggregate: Aggregate = "avg", comparison: Comparison = "below", threshold = 1e9): Promise<CrossingColumns> {
      const { values } = await api.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(from), to: new Date(to), aggregate, comparison, threshold });
      return { sensor_id: values.sensorId, v: values.value, n: values.count };
    }

    /** The engine's own answer for the same window, [from, to] read raw (never through the copy). */
    function engineCrossing(from: number, to: number, aggregate: Aggregate = "avg", comparison: Comparison = "below", threshold = 1e9): Promise<CrossingColumns> {
      return queryCrossing(ch(), { sensorIds: Object.values(ids), pieces: [{ source: "raw", from, to: to + 1 }], aggregate, comparison, threshold });
    }

    function expectSame(actual: CrossingColumns, expected: CrossingColumns) {
      expect(actual.sensor_id).toEqual(expected.sensor_id);
      expect(actual.n).toEqual(expected.n);
      actual.v.forEach((v, i) => expect(v).toBeCloseTo(expected.v[i]!, 9));
    }

    async function expectEngineAnswers(from: number, to: number) {
      for (const [aggregate, comparison, threshold] of [
        ["avg", "below", 1e9],
        ["min", "below", 1e9],
        ["max", "above", -1e9],
        ["avg", "above", 30],
      ] as const) {
        expectSame(await apiCrossing(from, to, aggregate, comparison, threshold), await engineCrossing(from, to, aggregate, comparison, threshold));
      }
    }

    beforeAll(async () => {
      server = await startTestServer(engine);
      ({ api, siteId } = await gardenOwner(server, `recent-${engine}@example.com`, "Europe/Berlin"));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "bench" });
      token = provisioned.token;
      const readings: Reading[] = [];
      for (let m = 0; m < 45; m++) keys.forEach((sensor, i) => readings.push({ sensor, ts: t0 + m * MINUTE, value: 20 + i * 5 + ((m * 7 + i) % 11) }));
      await post(server, token, readings);
      const { items } = await api.sensors.list.query({ siteId, deviceId: provisioned.device.id, limit: 100 });
      ids = Object.fromEntries(items.map((s) => [s.key, s.id]));
    });
    afterAll(() => server?.close());

    test("a crossing answers from memory once loaded; a write behind ingest's back shows after forgetReadings", async () => {
      forgetReadings(ch());
      const first = await apiCrossing(W.from, W.to);
      expectSame(first, await engineCrossing(W.from, W.to));
      expect(first.sensor_id).toHaveLength(4);
      for (const id of soilIds()) expect(mirrorsOf(ch())!.recent.holds(id, W.from)).toBe(true);

      // A reading written straight into the engine, inside the window: the copy does not know of
      // it (which proves the answer came from memory) until told.
      await ch().client.command({
        query: `INSERT INTO ${ch().database}.readings (sensor_id, ts, value, raw_value, batch)
                SETTINGS insert_deduplication_token = 'recent-behind-the-back'
                VALUES ({id:UUID}, fromUnixTimestamp64Milli({ts:Int64}, 'UTC'), -1000, -1000, 1)`,
        query_params: { id: ids.soil1, ts: W.from + MINUTE },
      });
      expect(await apiCrossing(W.from, W.to)).toEqual(first);
      forgetReadings(ch());
      const after = await apiCrossing(W.from, W.to);
      expect(after.sensor_id[0]).toBe(ids.soil1!); // now far below the others
      expectSame(after, await engineCrossing(W.from, W.to));
    });

    test("ingest keeps it exact: readings at the window's edges, late and out of order, ties, a later window", async () => {
      await apiCrossing(W.from, W.to); // held
      await post(server, token, [
        { sensor: "soil2", ts: W.from, value: 1 }, // on the first instant: in
        { sensor: "soil2", ts: W.from - 1, value: 500 }, // just before: out
        { sensor: "soil3", ts: W.to, value: 2 }, // on the last instant: in
        { sensor: "soil3", ts: W.to + 1, value: 600 }, // just after: out
        { sensor: "soil4", ts: t0 + 20 * MINUTE + 1, value: 3 }, // late, among held readings
        { sensor: "soil4", ts: t0 + 20 * MINUTE + 1, value: 4 }, // the same instant again
        { sensor: "soil1", ts: t0 + 44 * MINUTE + 30_000, value: 700 }, // newest, after the window
      ]);
      await post(server, token, [{ sensor: "soil2", ts: t0 + 15 * MINUTE + 7, value: 0.25 }]); // late and older than the last batch's
      await expectEngineAnswers(W.from, W.to);
      // A window moved on (a rule's next minute) is answered from the same copy.
      const before = mirrorsOf(ch())!.recent.stats.loads;
      await expectEngineAnswers(W.from + 5 * MINUTE, W.to + 5 * MINUTE);
      expect(mirrorsOf(ch())!.recent.stats.loads).toBe(before);
    });

    test("crossings loading while batches land count every reading once", async () => {
      const from = t0 + 30 * MINUTE + 1;
      const to = t0 + 49 * MINUTE;
      const batches: Reading[][] = [];
      for (let b = 0; b < 40; b++) batches.push(keys.map((sensor, i) => ({ sensor, ts: from + b * 20_000 + i, value: b + i })));
      const reads: Promise<unknown>[] = [];
      for (let i = 0; i < batches.length; i += 4) {
        if (i === 20) forgetReadings(ch());
        reads.push(apiCrossing(from + (i % 8) * 1000, to));
        await Promise.all(batches.slice(i, i + 4).map((batch) => post(server, token, batch, false)));
      }
      await Promise.all(reads);
      await server.settled();
      await expectEngineAnswers(from, to);
    });

    test("a sensor reporting too often to hold is asked of the engine, the others still from memory", async () => {
      const from = t0 + 46 * MINUTE;
      const to = t0 + 48 * MINUTE;
      const fast: Reading[] = [];
      for (let i = 0; i < 5_000; i++) fast.push({ sensor: "soil5", ts: from + i * 20, value: (i % 97) / 3 });
      for (let i = 0; i < fast.length; i += 1_000) await post(server, token, fast.slice(i, i + 1_000));
      if (!ids.soil5) {
        const { items } = await api.sensors.list.query({ siteId, limit: 100 });
        ids = Object.fromEntries(items.map((s) => [s.key, s.id]));
      }
      await expectEngineAnswers(from, to);
      const recent = mirrorsOf(ch())!.recent;
      expect(recent.holds(ids.soil5!, from)).toBe(false);
      expect(recent.holds(ids.soil1!, from)).toBe(true);
      const tooMany = recent.stats.tooMany;
      const answer = await apiCrossing(from, to, "max", "above", -1);
      expect(answer.n[answer.sensor_id.indexOf(ids.soil5!)]).toBe(5_000);
      expect(recent.stats.tooMany).toBe(tooMany); // asked of the engine again without loading it first
    });

    test("a fleet's days and 5-minute buckets come from memory once loaded, equal to the engine's, kept by ingest", async () => {
      type Bucket = "1d" | "5m";
      const range = (bucket: Bucket) => (bucket === "1d" ? { from: new Date(Date.now() - 30 * 3_600_000), to: new Date() } : { from: new Date(t0), to: new Date(t0 + 60 * MINUTE) });
      const apiFleet = (bucket: Bucket) => api.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", bucket, ...range(bucket) });
      /** The engine's own buckets from raw readings, in the answer's shape. */
      async function expectEngine(bucket: Bucket) {
        const res = await apiFleet(bucket);
        const rows = await queryFleetSeries(ch(), {
          sensorIds: res.values.sensorId,
          from: new Date(res.from),
          to: new Date(res.to),
          source: "raw",
          bucket: bucket === "1d" ? { kind: "day" } : { kind: "fixed", seconds: 300 },
          timezone: "Europe/Berlin",
        });
        let filled = 0;
        res.values.sensorId.forEach((id, i) => {
          res.t.forEach((t, j) => {
            const row = rows.sensor_id.findIndex((s, r) => s === id && rows.t[r]! * 1000 === t);
            if (row < 0) return expect(res.values.count[i]![j]).toBe(0);
            filled++;
            expect(res.values.count[i]![j]).toBe(Number(rows.n[row]));
            expect(res.values.min[i]![j]).toBe(rows.lo[row]!);
            expect(res.values.max[i]![j]).toBe(rows.hi[row]!);
            expect(res.values.avg[i]![j]!).toBeCloseTo(rows.mean[row]!, 9);
          });
        });
        expect(filled).toBe(rows.sensor_id.length);
        return res;
      }

      forgetReadings(ch());
      const days = await expectEngine("1d");
      expect(days.t.length).toBeGreaterThanOrEqual(2); // yesterday and today, Berlin's midnights
      await expectEngine("5m");
      const loads = mirrorsOf(ch())!.series.stats.loads;
      await ch().client.command({
        query: `INSERT INTO ${ch().database}.readings (sensor_id, ts, value, raw_value, batch)
                SETTINGS insert_deduplication_token = 'fleet-behind-the-back'
                VALUES ({id:UUID}, fromUnixTimestamp64Milli({ts:Int64}, 'UTC'), -50, -50, 1)`,
        query_params: { id: ids.soil2, ts: t0 + 3 * MINUTE },
      });
      expect(await apiFleet("1d")).toEqual(days); // from memory: the write behind ingest's back is not seen
      expect(mirrorsOf(ch())!.series.stats.loads).toBe(loads);
      forgetReadings(ch());
      expect((await expectEngine("1d")).values.min.flat()).toContain(-50);

      await post(server, token, [
        { sensor: "soil3", ts: t0 + 7 * MINUTE + 1, value: -7 }, // late, in an earlier bucket
        { sensor: "soil4", ts: Date.now() - 1_000, value: 99 }, // now: today's bucket, a new 5-minute one
      ]);
      await expectEngine("1d");
      await expectEngine("5m");
    });

    test("an aggregate rule's window is judged from the same copy, equal to the engine", async () => {
      const from = t0 + 12 * MINUTE;
      const to = t0 + 42 * MINUTE; // rules' windows are closed: [from, to]
      const sensors = soilIds();
      for (const fn of ["avg", "min", "max"] as const) {
        const held = await aggregateBySensor(ch(), sensors, fn, from, to);
        const rows = await queryRows<{ sensor_id: string; v: number }>(
          ch(),
          `SELECT sensor_id, ${fn}(value) AS v FROM ${ch().database}.readings
           WHERE sensor_id IN {ids:Array(UUID)} AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts <= fromUnixTimestamp64Milli({to:Int64}) GROUP BY sensor_id`,
          { ids: sensors, from, to },
        );
        expect([...held.keys()].sort()).toEqual(rows.map((r) => r.sensor_id).sort());
        for (const r of rows) expect(held.get(r.sensor_id)!).toBeCloseTo(Number(r.v), 9);
      }
      for (const id of sensors) expect(mirrorsOf(ch())!.recent.holds(id, from)).toBe(true);
    });
  });
}

describe("the write clock", () => {
  const batch = (...sensorIds: string[]) => ({ sensorIds });

  test("a load is exact for each of its sensors no write of which overlaps it (none once the copies were forgotten)", async () => {
    const clock = new WriteClock();
    /** Which of `sensors` the load may keep. */
    const load = async (sensors: string[], during: () => void = () => {}) => {
      const { exact } = await clock.watched(sensors, async () => {
        await Bun.sleep(1);
        during();
        return 1;
      });
      return sensors.filter(exact);
    };

    expect(await load(["a", "b"])).toEqual(["a", "b"]);
    // Another sensor's write under way at the start, and another beginning during the load: all exact.
    clock.begin([batch("x", "y")]);
    expect(await load(["a", "b"], () => clock.begin([batch("z")]))).toEqual(["a", "b"]);
    clock.end();
    clock.end();
    // One of its sensors' writes under way at the start: that one is not exact, the other is.
    clock.begin([batch("x"), batch("b")]);
    expect(await load(["a", "b"])).toEqual(["a"]);
    clock.end();
    // Ended before the load began: exact again.
    expect(await load(["a", "b"])).toEqual(["a", "b"]);
    // Beginning during the load: that one is not exact.
    expect(await load(["a", "b", "c"], () => clock.begin([batch("a", "x"), batch("c")]))).toEqual(["b"]);
    clock.end();
    // Forgotten during the load: none is exact.
    expect(await load(["a", "b"], () => clock.forgot())).toEqual([]);
    // A failed load reports its error and leaves nothing watching.
    await expect(clock.watched(["a"], () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await load(["a"])).toEqual(["a"]);
  });
});
