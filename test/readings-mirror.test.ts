import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { querySeries } from "../clickhouse/analytics/series";
import { queryRows } from "../clickhouse/client";
import { encodeBatch, latestOfRows } from "../clickhouse/insert";
import { forgetReadings, mirrorsOf } from "../clickhouse/mirror";
import { gardenOwner, post, type Api, type Reading } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * On embedded chDB, latest values and recent chart buckets come from the server's memory
 * (clickhouse/mirror), kept by ingest's flushes: the answers must stay exactly what the engine
 * answers, however reads, writes, restarts and late readings interleave.
 */

const MINUTE = 60_000;

for (const engine of postgresEngines) {
  describe(`latest values and charts from memory on ${engine}`, () => {
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let deviceToken: string;
    let sensorIds: Record<string, string>;
    const keys = ["soil", "temp", "light", "hum"];
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;

    /** What the engine's table says, asked directly (never through the copy). */
    async function engineLatest(): Promise<Map<string, { ts: number; value: number }>> {
      const ch = server.stores.clickhouse;
      const rows = await queryRows<{ sensor_id: string; v: number; t: string }>(
        ch,
        `SELECT sensor_id, argMax(value, ts) AS v, toString(toUnixTimestamp64Milli(max(ts))) AS t FROM ${ch.database}.readings_latest FINAL
         WHERE sensor_id IN {ids:Array(UUID)} GROUP BY sensor_id`,
        { ids: Object.values(sensorIds) },
      );
      return new Map(rows.map((r) => [r.sensor_id, { ts: Number(r.t), value: Number(r.v) }]));
    }

    /** What a dashboard gets, by sensor. */
    async function apiLatest(): Promise<Map<string, { ts: number; value: number }>> {
      const { values } = await api.analytics.latest.query({ siteId });
      const out = new Map<string, { ts: number; value: number }>();
      values.sensorId.forEach((id, i) => {
        if (values.ts[i] !== null) out.set(id, { ts: values.ts[i]!, value: values.value[i]! });
      });
      return out;
    }

    beforeAll(async () => {
      server = await startTestServer(engine);
      ({ api, siteId } = await gardenOwner(server, `mirror-${engine}@example.com`));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "bed" });
      deviceToken = provisioned.token;
      await post(server, deviceToken, keys.map((sensor, i) => ({ sensor, ts: t0, value: i })));
      const { items } = await api.sensors.list.query({ siteId, deviceId: provisioned.device.id, limit: 100 });
      sensorIds = Object.fromEntries(items.map((s) => [s.key, s.id]));
    });
    afterAll(() => server?.close());

    test("a read answers from memory once loaded; writes behind ingest's back show after forgetReadings", async () => {
      forgetReadings(server.stores.clickhouse);
      // Loaded from the table on this read.
      const first = await apiLatest();
      expect(first).toEqual(await engineLatest());
      expect(first.get(sensorIds.soil!)).toEqual({ ts: t0, value: 0 });

      // A newer reading written straight into the engine, as a script would: the copy does not
      // know of it (which proves the answer came from memory) until told.
      const ch = server.stores.clickhouse;
      await ch.client.command({
        query: `INSERT INTO ${ch.database}.readings (sensor_id, ts, value, raw_value, batch)
                SETTINGS insert_deduplication_token = 'mirror-behind-the-back'
                VALUES ({id:UUID}, fromUnixTimestamp64Milli({ts:Int64}, 'UTC'), 99, 99, 1)`,
        query_params: { id: sensorIds.soil, ts: t0 + MINUTE },
      });
      expect((await apiLatest()).get(sensorIds.soil!)).toEqual({ ts: t0, value: 0 });
      forgetReadings(ch);
      expect((await apiLatest()).get(sensorIds.soil!)).toEqual({ ts: t0 + MINUTE, value: 99 });
      expect(await apiLatest()).toEqual(await engineLatest());
    });

    test("ingest keeps it exact: newer readings win, late older ones do not, the same as the engine", async () => {
      await apiLatest(); // warm
      await post(server, deviceToken, [
        { sensor: "temp", ts: t0 + 5 * MINUTE, value: 21.5 },
        { sensor: "temp", ts: t0 + 3 * MINUTE, value: 20 }, // older, later in the batch
        { sensor: "light", ts: t0 + 2 * MINUTE, value: 1200 },
      ]);
      await post(server, deviceToken, [{ sensor: "temp", ts: t0 + 4 * MINUTE, value: 19 }]); // late, older than the latest
      const latest = await apiLatest();
      expect(latest.get(sensorIds.temp!)).toEqual({ ts: t0 + 5 * MINUTE, value: 21.5 });
      expect(latest.get(sensorIds.light!)).toEqual({ ts: t0 + 2 * MINUTE, value: 1200 });
      expect(latest).toEqual(await engineLatest());
    });

    test("a sensor that never reported shows once it does, the same list asked again each time", async () => {
      const { items } = await api.sensors.list.query({ siteId, limit: 100 });
      const created = await api.sensors.create.mutate({ siteId, deviceId: items[0]!.deviceId, key: "late", metric: "temperature" });
      sensorIds.late = created.id; // compared with the engine from here on
      const before = await api.analytics.latest.query({ siteId });
      const at = before.values.sensorId.indexOf(created.id);
      expect(at).toBeGreaterThanOrEqual(0);
      expect([before.values.value[at], before.values.ts[at], before.values.stale[at]]).toEqual([null, null, true]);
      await post(server, deviceToken, [{ sensor: "late", ts: t0 + 7 * MINUTE, value: 17.5 }]);
      const after = await api.analytics.latest.query({ siteId });
      expect(after.values.sensorId).toEqual(before.values.sensorId); // the same list, its places kept
      expect([after.values.value[at], after.values.ts[at]]).toEqual([17.5, t0 + 7 * MINUTE]);
      // After the copy is dropped and loaded again, the same.
      forgetReadings(server.stores.clickhouse);
      const reloaded = await api.analytics.latest.query({ siteId });
      expect([reloaded.values.value[at], reloaded.values.ts[at]]).toEqual([17.5, t0 + 7 * MINUTE]);
      expect(await apiLatest()).toEqual(await engineLatest());
    });

    test("reads, a reload and concurrent batches interleaved end where the engine ends", async () => {
      // Each sensor gets readings at distinct times, in shuffled batches sent 8 at a time, while
      // dashboards read and the copy is dropped and reloaded mid-way.
      const expected = new Map<string, { ts: number; value: number }>();
      const batches: { sensor: string; ts: number; value: number }[][] = [];
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let b = 0; b < 48; b++) {
        const batch = keys.map((sensor) => ({ sensor, ts: t0 + 10 * MINUTE + Math.floor(rand() * 40 * MINUTE), value: Math.round(rand() * 1000) / 10 }));
        batches.push(batch);
      }
      const seen = new Set<string>();
      for (const batch of batches) {
        for (const r of batch) {
          // Distinct times per sensor: a tie would be the engine's choice, not a rule to test.
          while (seen.has(`${r.sensor}/${r.ts}`)) r.ts += 1;
          seen.add(`${r.sensor}/${r.ts}`);
          const id = sensorIds[r.sensor]!;
          if (!expected.has(id) || r.ts > expected.get(id)!.ts) expected.set(id, { ts: r.ts, value: r.value });
        }
      }
      const reads: Promise<unknown>[] = [];
      for (let i = 0; i < batches.length; i += 8) {
        if (i === 24) forgetReadings(server.stores.clickhouse);
        reads.push(apiLatest());
        await Promise.all(batches.slice(i, i + 8).map((batch) => post(server, deviceToken, batch, false)));
      }
      await Promise.all(reads);
      await server.settled();
      const latest = await apiLatest();
      expect(latest).toEqual(await engineLatest());
      for (const [id, sample] of expected) expect(latest.get(id)).toEqual(sample);
    });

    test("after a restart the copy loads again and agrees with the engine", async () => {
      await server.restart();
      expect(await apiLatest()).toEqual(await engineLatest());
    });

    // Charts: the last 24 hours of one sensor in 5-minute buckets, as the dashboard asks.
    const DAY = 86_400_000;
    /** The dashboard's chart, through the typed client. */
    async function apiChart(key: string, now = Date.now()) {
      const res = await api.analytics.series.query({ siteId, sensorIds: [sensorIds[key]!], from: new Date(now - DAY), to: new Date(now), bucket: "5m" });
      return res.series[0]!.buckets;
    }
    /** The same buckets asked of the engine (the minute rollup), never through the copy. */
    async function engineChart(key: string, now = Date.now()) {
      const from = Math.floor((now - DAY) / 300_000) * 300_000;
      const to = Math.ceil(now / 300_000) * 300_000;
      const c = await querySeries(server.stores.clickhouse, { sensorIds: [sensorIds[key]!], from: new Date(from), to: new Date(to), source: "1m", bucket: { kind: "fixed", seconds: 300 }, timezone: "UTC", percentiles: false });
      return { t: c.t.map((s) => s * 1000), avg: c.mean, min: c.lo, max: c.hi, count: c.n, last: c.last_v };
    }
    /** Equal bucket for bucket; averages to the last few bits (a sum's order is the engine's own choice). */
    function expectSameChart(actual: Awaited<ReturnType<typeof apiChart>>, expected: Awaited<ReturnType<typeof engineChart>>) {
      expect({ ...actual, avg: [] }).toEqual({ ...expected, avg: [] });
      expect(actual.avg.length).toBe(expected.avg.length);
      actual.avg.forEach((a, i) => expect(a).toBeCloseTo(expected.avg[i]!, 9));
    }
    /** A reading a minute for the last `hours`, values from the sensor's own curve. */
    function history(key: string, hours: number, end: number): Reading[] {
      const out: Reading[] = [];
      for (let ts = end - hours * 3_600_000; ts < end; ts += MINUTE) out.push({ sensor: key, ts, value: Math.round((40 + 10 * Math.sin(ts / 3_600_000)) * 100) / 100 });
      return out;
    }

    test("a chart's buckets come from memory once loaded, equal to the engine's; writes behind ingest's back show after forgetReadings", async () => {
      const now = Date.now();
      await post(server, deviceToken, history("hum", 6, now - 5 * MINUTE));
      const loaded = await apiChart("hum", now);
      expect(loaded.count.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6 * 60);
      expectSameChart(loaded, await engineChart("hum", now));

      // Straight into the engine: the copy does not know of it (the chart came from memory)…
      const ch = server.stores.clickhouse;
      await ch.client.command({
        query: `INSERT INTO ${ch.database}.readings (sensor_id, ts, value, raw_value, batch)
                SETTINGS insert_deduplication_token = 'chart-behind-the-back'
                VALUES ({id:UUID}, fromUnixTimestamp64Milli({ts:Int64}, 'UTC'), 1000, 1000, 1)`,
        query_params: { id: sensorIds.hum, ts: now - 2 * MINUTE },
      });
      expect(await apiChart("hum", now)).toEqual(loaded);
      // …until told.
      forgetReadings(ch);
      const reloaded = await apiChart("hum", now);
      expect(Math.max(...reloaded.max)).toBe(1000);
      expectSameChart(reloaded, await engineChart("hum", now));
    });

    test("ingest keeps a held chart exact: new buckets, the current one, and late readings in old ones", async () => {
      const now = Date.now();
      await post(server, deviceToken, history("soil", 4, now - 30 * MINUTE));
      await apiChart("soil", now); // loaded and held
      const holds = () => mirrorsOf(server.stores.clickhouse)!.series.holds(sensorIds.soil!, 300_000, Math.floor((now - DAY) / 300_000) * 300_000);
      expect(holds()).toBe(true);
      await post(server, deviceToken, [
        { sensor: "soil", ts: now - 20 * MINUTE, value: 12.5 }, // a new bucket
        { sensor: "soil", ts: now - 20 * MINUTE + 1_000, value: 80 }, // the same one: a new max and last
        { sensor: "soil", ts: now - 3 * 3_600_000 + 7_000, value: -5 }, // late, inside an old bucket: a new min
        { sensor: "soil", ts: now - 2 * DAY, value: 999 }, // outside the chart: changes nothing
      ]);
      expect(holds()).toBe(true); // kept up by the batches, not loaded again
      expectSameChart(await apiChart("soil", now), await engineChart("soil", now));
      // A minute later the chart's range has moved on: still answered from the copy, still the engine's.
      expectSameChart(await apiChart("soil", now + MINUTE), await engineChart("soil", now + MINUTE));
      // Asked two days on, the held buckets all lie before the range: it keeps only what it is
      // asked for (no unbounded growth), and the earlier chart loads again, still the engine's.
      expect((await apiChart("soil", now + 2 * DAY)).t).toEqual([]);
      expect(holds()).toBe(false);
      expectSameChart(await apiChart("soil", now), await engineChart("soil", now));
      expect(holds()).toBe(true);
    });

    test("charts loading while batches land count every reading once", async () => {
      const now = Date.now();
      const batches: Reading[][] = [];
      for (let b = 0; b < 40; b++) batches.push(["temp", "light"].map((sensor) => ({ sensor, ts: now - 90 * MINUTE + b * 2 * MINUTE + (sensor === "temp" ? 0 : 1), value: b })));
      const charts: Promise<unknown>[] = [];
      for (let i = 0; i < batches.length; i += 4) {
        if (i === 20) forgetReadings(server.stores.clickhouse);
        charts.push(apiChart("temp", now), apiChart("light", now));
        await Promise.all(batches.slice(i, i + 4).map((batch) => post(server, deviceToken, batch, false)));
      }
      await Promise.all(charts);
      await server.settled();
      for (const key of ["temp", "light"]) expectSameChart(await apiChart(key, now), await engineChart(key, now));
    });

    test("a chart loads its device's other sensors along: their charts then come from memory, equal to the engine's", async () => {
      const ch = server.stores.clickhouse;
      const series = mirrorsOf(ch)!.series;
      const now = Date.now();
      const from = Math.floor((now - DAY) / 300_000) * 300_000;
      for (const key of keys) await post(server, deviceToken, history(key, 3, now - 10 * MINUTE), false);
      await server.settled();
      forgetReadings(ch);
      const loads = series.stats.loads;
      await apiChart("light", now);
      expect(series.stats.loads).toBe(loads + 1);
      for (const key of keys) expect(series.holds(sensorIds[key]!, 300_000, from)).toBe(true);
      for (const key of keys) expectSameChart(await apiChart(key, now), await engineChart(key, now));
      expect(series.stats.loads).toBe(loads + 1);

      // A gateway of 17 sensors: its charts load one by one (no query for sixteen that nobody opens).
      const gateway = await api.devices.provision.mutate({ siteId, name: "gateway" });
      const gatewayKeys = Array.from({ length: 17 }, (_, i) => `g${i}`);
      await post(server, gateway.token, gatewayKeys.map((sensor, i) => ({ sensor, ts: now - 5 * MINUTE, value: i })));
      const { items } = await api.sensors.list.query({ siteId, deviceId: gateway.device.id, limit: 100 });
      const g0 = items.find((s) => s.key === "g0")!.id;
      await api.analytics.series.query({ siteId, sensorIds: [g0], from: new Date(now - DAY), to: new Date(now), bucket: "5m" });
      expect(series.holds(g0, 300_000, from)).toBe(true);
      expect(items.filter((s) => s.id !== g0 && series.holds(s.id, 300_000, from))).toEqual([]);
    });
  });
}

test("a batch read back from the write-ahead log yields the same newest readings as when it was encoded", () => {
  const sensors = new Map([
    ["a", { id: "0b5a6c1e-0000-4000-8000-000000000001", metric: "temperature", calibration: null }],
    ["b", { id: "0b5a6c1e-0000-4000-8000-000000000002", metric: "soil_moisture", calibration: { rawLow: 0, valueLow: 1, rawHigh: 1, valueHigh: 3 } }],
  ]);
  const readings = [
    { sensor: "a", ts: 1_000, value: 1 },
    { sensor: "b", ts: 5_000, value: 2 },
    { sensor: "a", ts: 3_000, value: 3 },
    { sensor: "a", ts: 3_000, value: 4 }, // a tie: the first stays, as argMax keeps it
    { sensor: "b", ts: 4_000, value: 5 },
  ];
  const encoded = encodeBatch(sensors, readings, 1n);
  expect({ sensorIds: encoded.sensorIds, latestTs: [...encoded.latestTs], latestValues: [...encoded.latestValues] }).toEqual({
    sensorIds: ["0b5a6c1e-0000-4000-8000-000000000001", "0b5a6c1e-0000-4000-8000-000000000002"],
    latestTs: [3_000, 5_000],
    latestValues: [3, 2 * 2 + 1],
  });
  expect(latestOfRows(encoded.payload)).toEqual({ sensorIds: encoded.sensorIds, latestTs: [...encoded.latestTs], latestValues: [...encoded.latestValues] });
});
