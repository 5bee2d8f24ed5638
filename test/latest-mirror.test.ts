import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { queryRows } from "../clickhouse/client";
import { encodeBatch, latestOfRows } from "../clickhouse/insert";
import { forgetLatest } from "../clickhouse/latest-mirror";
import { gardenOwner, post, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * Latest values on embedded chDB come from the server's memory (clickhouse/latest-mirror.ts), kept
 * by ingest's flushes: the answers must stay exactly what the engine's `readings_latest` holds,
 * however reads, writes, restarts and late readings interleave.
 */

const MINUTE = 60_000;

for (const engine of postgresEngines) {
  describe(`latest values from memory on ${engine}`, () => {
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

    test("a read answers from memory once loaded; writes behind ingest's back show after forgetLatest", async () => {
      forgetLatest(server.stores.clickhouse);
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
      forgetLatest(ch);
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
        if (i === 24) forgetLatest(server.stores.clickhouse);
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
