import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { eq } from "drizzle-orm";
import { queryRows } from "../clickhouse/client";
import { devices, sensors } from "../db/schema";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

const PASSWORD = "correct horse battery";
// Within the raw retention (90 days), on a minute boundary.
const T0 = Math.floor((Date.now() - 24 * 3600_000) / 60_000) * 60_000;

for (const engine of postgresEngines) {
  describe(`POST /v1/ingest on ${engine}`, () => {
    let server: TestServer;
    let siteId: string;
    let api: ReturnType<TestServer["client"]>;
    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: `ingest-${engine}@example.com`, password: PASSWORD, displayName: "I", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
    });
    afterAll(() => server.close());

    const newDevice = async (name = "esp32") => (await api.devices.provision.mutate({ siteId, name })) as { device: { id: string }; token: string };
    const post = (token: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
        body: (typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body)) as BodyInit,
      });
    const ch = () => server.stores.clickhouse;
    // Raw readings carry sensor ids only; a device's sensors are in Postgres.
    const sensorIdsOf = async (deviceId: string) =>
      (await server.stores.db.select({ id: sensors.id }).from(sensors).where(eq(sensors.deviceId, deviceId))).map((s) => s.id);
    // What ingest acknowledged reaches ClickHouse a moment later: each count waits for it first.
    const countRows = async (deviceId: string) =>
      (await server.settled()) ??
      Number(
        (await queryRows<{ n: string }>(ch(), `SELECT count() AS n FROM ${ch().database}.readings WHERE sensor_id IN {s:Array(UUID)}`, { s: await sensorIdsOf(deviceId) }))[0]!.n,
      );
    const rollupCount = async (deviceId: string) =>
      (await server.settled()) ??
      Number(
        (await queryRows<{ n: string }>(ch(), `SELECT sum(count) AS n FROM ${ch().database}.readings_1m WHERE sensor_id IN {s:Array(UUID)}`, { s: await sensorIdsOf(deviceId) }))[0]!.n ?? 0,
      );

    test("an accepted batch is stored, and new sensor keys become sensors", async () => {
      const { device, token } = await newDevice();
      const response = await post(token, {
        batchId: "b-1",
        readings: [
          { sensor: "soil1", ts: T0, value: 41.7 },
          { sensor: "temp", ts: T0, value: 21.5 },
          { sensor: "probe", ts: T0, value: 7, metric: "ph" },
          { sensor: "xyz", ts: T0, value: 1 },
        ],
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ batchId: "b-1", accepted: 4, duplicates: 0, rejected: [] });
      expect(await countRows(device.id)).toBe(4);
      const created = await server.stores.db.select({ key: sensors.key, metric: sensors.metric, unit: sensors.unit }).from(sensors).where(eq(sensors.deviceId, device.id));
      expect(Object.fromEntries(created.map((s) => [s.key, [s.metric, s.unit]]))).toEqual({
        soil1: ["soil_moisture", "%"],
        temp: ["temperature", "°C"],
        probe: ["ph", "pH"],
        xyz: ["unknown", ""],
      });
    });

    test("a committed batch is announced once, with sensor ids and calibrated values; its retry is not", async () => {
      const { device, token } = await newDevice();
      const seen: { batchId: string; deviceId: string; siteId: string; readings: unknown[] }[] = [];
      const off = server.events.on("readings.committed", (e) => {
        if (e.deviceId === device.id) seen.push({ batchId: e.batchId, deviceId: e.deviceId, siteId: e.siteId, readings: e.readings() });
      });
      try {
        await post(token, { batchId: "first", readings: [{ sensor: "soil1", ts: T0 - 60_000, value: 2000 }] });
        const [sensorId] = await sensorIdsOf(device.id);
        await api.sensors.setCalibration.mutate({ siteId, sensorId: sensorId!, rawLow: 3000, valueLow: 0, rawHigh: 1000, valueHigh: 100 });
        const body = { batchId: "announce", readings: [{ sensor: "soil1", ts: T0, value: 2500 }, { sensor: "soil1", ts: T0 + 60_000, value: 2000 }] };
        expect((await post(token, body)).status).toBe(200);
        expect((await post(token, body)).status).toBe(200);
        await Bun.sleep(20);
        expect(seen.shift()?.batchId).toBe("first"); // before calibration
        expect(seen).toEqual([
          {
            batchId: "announce",
            deviceId: device.id,
            siteId,
            readings: [
              { sensorId, metric: "soil_moisture", ts: T0, value: 25 },
              { sensorId, metric: "soil_moisture", ts: T0 + 60_000, value: 50 },
            ],
          },
        ]);
      } finally {
        off();
      }
    });

    test("a retried batch is acknowledged as duplicates and stored once, in raw data and rollups", async () => {
      const { device, token } = await newDevice();
      const body = { batchId: "retry-me", readings: [{ sensor: "soil1", ts: T0, value: 40 }, { sensor: "soil1", ts: T0 + 60_000, value: 39 }] };
      expect(await (await post(token, body)).json()).toMatchObject({ accepted: 2, duplicates: 0 });
      expect(await (await post(token, body)).json()).toMatchObject({ accepted: 0, duplicates: 2 });
      // A restart forgets what this process remembered: ClickHouse itself answers.
      await server.restartIngest();
      expect(await (await post(token, body)).json()).toMatchObject({ accepted: 0, duplicates: 2 });
      expect(await countRows(device.id)).toBe(2);
      expect(await rollupCount(device.id)).toBe(2);
    });

    test("a first attempt goes straight in; its retry, marked as such, is recognised after a restart", async () => {
      const { device, token } = await newDevice();
      const readings = [{ sensor: "soil1", ts: T0, value: 40 }];
      expect(await (await post(token, { batchId: "declared", attempt: 1, readings })).json()).toMatchObject({ accepted: 1 });
      await server.restartIngest();
      expect(await (await post(token, { batchId: "declared", attempt: 2, readings })).json()).toMatchObject({ accepted: 0, duplicates: 1 });
      expect(await countRows(device.id)).toBe(1);
      const bad = await post(token, { batchId: "x", attempt: 0, readings });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toContain("attempt");
    });

    test("a retry sent while the first attempt is still in flight is stored once", async () => {
      const { device, token } = await newDevice();
      const body = { batchId: "concurrent", readings: Array.from({ length: 500 }, (_, i) => ({ sensor: "soil1", ts: T0 + i * 1000, value: i })) };
      const receipts = (await Promise.all([post(token, body), post(token, body), post(token, body)].map(async (r) => (await r).json()))) as {
        accepted: number;
        duplicates: number;
      }[];
      expect(receipts.map((r) => r.accepted).sort()).toEqual([0, 0, 500]);
      expect(receipts.map((r) => r.duplicates).sort()).toEqual([0, 500, 500]);
      expect(await countRows(device.id)).toBe(500);
    });

    test("the same batchId from two devices is two batches", async () => {
      const a = await newDevice("a");
      const b = await newDevice("b");
      const body = { batchId: "shared-id", readings: [{ sensor: "t", ts: T0, value: 1 }] };
      expect(await (await post(a.token, body)).json()).toMatchObject({ accepted: 1 });
      expect(await (await post(b.token, body)).json()).toMatchObject({ accepted: 1 });
    });

    test("a batch with any invalid reading is refused whole, naming each bad index, and stores nothing", async () => {
      const { device, token } = await newDevice();
      const now = Date.now();
      const response = await post(
        token,
        `{"batchId":"bad","readings":[{"sensor":"soil1","value":40,"ts":${T0}},{"sensor":"soil1","value":"41"},{"sensor":"soil1","value":1e999},{"sensor":"soil1","value":1,"ts":${now + 3_600_000}},{"sensor":"bad key!","value":1},{"sensor":"t","value":1,"ts":1.5},{"sensor":"t","value":1,"metric":"mood"}]}`,
      );
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string; details: { batchId: string; accepted: number; rejected: { index: number; reason: string }[] } };
      expect(body.details.batchId).toBe("bad");
      expect(body.details.accepted).toBe(0);
      expect(body.details.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(body.details.rejected[0]!.reason).toBe("value must be a finite number");
      expect(body.details.rejected[2]!.reason).toContain("in the future");
      expect(await countRows(device.id)).toBe(0);
      expect(await server.stores.db.select().from(sensors).where(eq(sensors.deviceId, device.id))).toEqual([]);
    });

    test("malformed bodies and missing batch ids are 400 with the reason", async () => {
      const { token } = await newDevice();
      const notJson = await post(token, "{readings: oops");
      expect(notJson.status).toBe(400);
      expect(((await notJson.json()) as { error: string }).error).toBe("body is not valid JSON");
      const noId = await post(token, { readings: [] });
      expect(noId.status).toBe(400);
      expect(((await noId.json()) as { error: string }).error).toContain("batchId");
      const notGzip = await post(token, "plain", { "content-encoding": "gzip" });
      expect(notGzip.status).toBe(400);
    });

    test("limits answer 413 and name the limit", async () => {
      const { token } = await newDevice();
      const tooMany = await post(token, { batchId: "big", readings: Array.from({ length: 10_001 }, () => ({ sensor: "t", value: 1 })) });
      expect(tooMany.status).toBe(413);
      expect(((await tooMany.json()) as { details: { limit: number } }).details.limit).toBe(10_000);
      const huge = await post(token, JSON.stringify({ batchId: "huge", pad: "x".repeat(5 * 1024 * 1024), readings: [] }));
      expect(huge.status).toBe(413);
      // A small gzip body that inflates past the limit is refused too.
      const bomb = gzipSync(JSON.stringify({ batchId: "bomb", pad: "x".repeat(5 * 1024 * 1024), readings: [] }));
      expect(bomb.byteLength).toBeLessThan(100_000);
      expect((await post(token, bomb, { "content-encoding": "gzip" })).status).toBe(413);
    });

    test("gzip bodies and the columnar form are accepted", async () => {
      const { device, token } = await newDevice();
      const gz = gzipSync(JSON.stringify({ batchId: "gz", readings: [{ sensor: "soil1", ts: T0, value: 1 }] }));
      expect(await (await post(token, gz, { "content-encoding": "gzip" })).json()).toMatchObject({ accepted: 1 });
      const columnar = await post(token, { batchId: "col", sensor: "lux", metric: "light", ts: [T0, T0 + 1000, T0 + 2000], value: [100, 200, 300] });
      expect(await columnar.json()).toMatchObject({ accepted: 3 });
      expect(await countRows(device.id)).toBe(4);
    });

    test("calibration is applied at ingest and the raw value is kept", async () => {
      const { device, token } = await newDevice();
      await post(token, { batchId: "first", readings: [{ sensor: "soil1", ts: T0, value: 2000 }] });
      // Dry soil reads 3000 (0 %), wet soil 1000 (100 %): set through the API, which tells ingest.
      const [sensorId] = await sensorIdsOf(device.id);
      await api.sensors.setCalibration.mutate({ siteId, sensorId: sensorId!, rawLow: 3000, valueLow: 0, rawHigh: 1000, valueHigh: 100 });
      await post(token, { batchId: "second", readings: [{ sensor: "soil1", ts: T0 + 1000, value: 2500 }] });
      await server.settled();
      const rows = await queryRows<{ value: number; raw_value: number }>(
        ch(),
        `SELECT value, raw_value FROM ${ch().database}.readings WHERE sensor_id IN {s:Array(UUID)} ORDER BY ts`,
        { s: await sensorIdsOf(device.id) },
      );
      expect(rows).toEqual([
        { value: 2000, raw_value: 2000 },
        { value: 25, raw_value: 2500 },
      ]);
    });

    test("both insert formats store exactly what was sent: awkward numbers, long batch ids, many sensors", async () => {
      // The same batch through RowBinary (this server, on chDB) and TabSeparated (what a ClickHouse
      // server gets), compared with the values sent, not with each other.
      const tsvServer = await startTestServer(engine, { ingest: { insertFormat: "tsv" } });
      try {
        const owner = await tsvServer.client().auth.register.mutate({ email: `tsv-${engine}@example.com`, password: PASSWORD, displayName: "T", client: "app" });
        const tsvApi = tsvServer.client(owner.token!);
        // Up to the largest magnitude ingest accepts (±1e15, shared/values.ts).
        const values = [0, -0.5, 41.7, 1e-300, -123456789.125, 2 ** 49 + 0.25, 1e15, 5e-324, 0.1 + 0.2];
        const batchId = "x".repeat(128); // a two-byte length prefix in RowBinary
        const readings = values.flatMap((value, i) => [
          { sensor: `s${i}`, ts: T0 + i, value },
          // A low 32-bit half of 2^32 - 1 ms: the carry into the high half must be right.
          { sensor: `s${i}`, ts: Math.floor(T0 / 2 ** 32) * 2 ** 32 - 1 - i, value: -value },
        ]);
        for (const [target, targetApi, label] of [[server, api, "rowbinary"], [tsvServer, tsvApi, "tsv"]] as const) {
          const site = label === "rowbinary" ? siteId : owner.personalSiteId;
          const { device, token } = (await targetApi.devices.provision.mutate({ siteId: site, name: label })) as { device: { id: string }; token: string };
          const response = await fetch(`${target.url}/v1/ingest`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ batchId, readings }),
          });
          expect(response.status).toBe(200);
          const keyOf = new Map(
            (await target.stores.db.select({ id: sensors.id, key: sensors.key }).from(sensors).where(eq(sensors.deviceId, device.id))).map((s) => [s.id, s.key]),
          );
          const tch = target.stores.clickhouse;
          await target.settled();
          // The batch is stored as its hash: ClickHouse's own xxHash64 of the id must match it, so
          // that a batch can be found by its id in SQL and the duplicate check finds old batches.
          const stored = await queryRows<{ sensor_id: string; ts: string; value: number; raw_value: number; batch_matches: number }>(
            tch,
            `SELECT sensor_id, toString(toUnixTimestamp64Milli(ts)) AS ts, value, raw_value, batch = xxHash64({b:String}) AS batch_matches
             FROM ${tch.database}.readings WHERE sensor_id IN {s:Array(UUID)} ORDER BY ts`,
            { s: [...keyOf.keys()], b: batchId },
          );
          const got = stored.map((r) => ({ sensor: keyOf.get(r.sensor_id), ts: Number(r.ts), value: r.value, raw: r.raw_value, batchMatches: r.batch_matches }));
          const sent = JSON.parse(JSON.stringify(readings)) as typeof readings; // -0 travels as 0
          const want = sent
            .map((r) => ({ sensor: r.sensor, ts: r.ts, value: r.value, raw: r.value, batchMatches: 1 }))
            .sort((a, b) => a.ts - b.ts);
          expect({ label, rows: got }).toEqual({ label, rows: want });
        }
      } finally {
        await tsvServer.close();
      }
    });

    test("late and out-of-order readings land in the right minute buckets", async () => {
      const { device, token } = await newDevice();
      await post(token, { batchId: "now", readings: [{ sensor: "t", ts: T0 + 120_000, value: 30 }] });
      await post(token, { batchId: "late", readings: [{ sensor: "t", ts: T0 + 1_000, value: 10 }, { sensor: "t", ts: T0 + 121_000, value: 31 }, { sensor: "t", ts: T0 + 2_000, value: 20 }] });
      await server.settled();
      const buckets = await queryRows<{ bucket: string; n: string; mn: number; mx: number; last: number }>(
        ch(),
        `SELECT toUnixTimestamp(bucket) * 1000 AS bucket, sum(count) AS n, min(min_value) AS mn, max(max_value) AS mx, argMaxMerge(last_value) AS last
         FROM ${ch().database}.readings_1m WHERE sensor_id IN {s:Array(UUID)} GROUP BY bucket ORDER BY bucket`,
        { s: await sensorIdsOf(device.id) },
      );
      expect(buckets.map((b) => [Number(b.bucket), Number(b.n), b.mn, b.mx, b.last])).toEqual([
        [T0, 2, 10, 20, 20],
        [T0 + 120_000, 2, 30, 31, 31],
      ]);
      const latest = await queryRows<{ value: number }>(ch(), `SELECT value FROM ${ch().database}.readings_latest FINAL WHERE sensor_id IN {s:Array(UUID)}`, {
        s: await sensorIdsOf(device.id),
      });
      expect(latest).toEqual([{ value: 31 }]);
    });

    test("the hourly rollup (fed by the minute rollup) holds exactly the hours' count, min, max, sum and last", async () => {
      const { device, token } = await newDevice();
      const H = 3_600_000;
      const start = Math.floor((T0 - 5 * H) / H) * H;
      // Three hours of readings every 7 minutes, sent in shuffled batches (late and out of order).
      const readings = Array.from({ length: 26 }, (_, i) => ({ sensor: "t", ts: start + i * 7 * 60_000 + 13_000, value: Math.round(Math.sin(i) * 1000) / 10 }));
      const shuffled = [...readings].sort((a, b) => ((a.ts * 7919) % 13) - ((b.ts * 7919) % 13));
      for (let i = 0; i < shuffled.length; i += 5) await post(token, { batchId: `h-${i}`, readings: shuffled.slice(i, i + 5) });
      const expected = new Map<number, { n: number; mn: number; mx: number; sum: number; lastTs: number; last: number }>();
      for (const r of readings) {
        const hour = Math.floor(r.ts / H) * H;
        const e = expected.get(hour) ?? { n: 0, mn: Infinity, mx: -Infinity, sum: 0, lastTs: -Infinity, last: NaN };
        e.n += 1;
        e.mn = Math.min(e.mn, r.value);
        e.mx = Math.max(e.mx, r.value);
        e.sum += r.value;
        if (r.ts > e.lastTs) (e.lastTs = r.ts), (e.last = r.value);
        expected.set(hour, e);
      }
      await server.settled();
      const hours = await queryRows<{ bucket: string; n: string; mn: number; mx: number; total: number; last: number }>(
        ch(),
        `SELECT toUnixTimestamp(bucket) * 1000 AS bucket, sum(count) AS n, min(min_value) AS mn, max(max_value) AS mx, sum(sum_value) AS total,
                argMaxMerge(last_value) AS last
         FROM ${ch().database}.readings_1h WHERE sensor_id IN {s:Array(UUID)} GROUP BY bucket ORDER BY bucket`,
        { s: await sensorIdsOf(device.id) },
      );
      expect(hours.map((h) => [Number(h.bucket), Number(h.n), h.mn, h.mx, Math.round(h.total * 1000) / 1000, h.last])).toEqual(
        [...expected].sort(([a], [b]) => a - b).map(([hour, e]) => [hour, e.n, e.mn, e.mx, Math.round(e.sum * 1000) / 1000, e.last]),
      );
    });

    test("a device may not create more sensors than the limit", async () => {
      const { device, token } = await newDevice();
      const readings = Array.from({ length: 65 }, (_, i) => ({ sensor: `s${i}`, ts: T0, value: i }));
      const response = await post(token, { batchId: "many", readings });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toContain("the limit is 64");
      expect(await countRows(device.id)).toBe(0);
    });

    test("last seen and battery are written to the device, off the request path", async () => {
      const { device, token } = await newDevice();
      await post(token, { batchId: "bat", readings: [{ sensor: "battery", ts: T0, value: 87 }, { sensor: "battery", ts: T0 - 1000, value: 90 }] });
      const [before] = await server.stores.db.select().from(devices).where(eq(devices.id, device.id));
      expect(before!.lastSeenAt).toBeNull();
      await server.ingest.activity.flush();
      const [after] = await server.stores.db.select().from(devices).where(eq(devices.id, device.id));
      expect(after!.batteryPercent).toBe(87);
      expect(after!.lastSeenAt).toBeInstanceOf(Date);
    });

    test("unknown tokens are 401 and revoked devices 403", async () => {
      const { device, token } = await newDevice();
      expect((await post("vdt_nope", { batchId: "x", readings: [] })).status).toBe(401);
      await api.devices.revoke.mutate({ siteId, deviceId: device.id });
      expect((await post(token, { batchId: "x", readings: [] })).status).toBe(403);
    });
  });
}

describe("recognising retries without asking ClickHouse", () => {
  test("a new installation looks no batch up, backlog included; a new log over stores that hold batches does, and finds them", async () => {
    const server = await startTestServer("pglite");
    try {
      const owner = await server.client().auth.register.mutate({ email: "history@example.com", password: PASSWORD, displayName: "H", client: "app" });
      const { device, token } = await server.client(owner.token!).devices.provision.mutate({ siteId: owner.personalSiteId, name: "d" });
      const send = (url: string, batchId: string) =>
        fetch(`${url}/v1/ingest`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}` },
          // A backlog: readings from a day before this server (and its log) began.
          body: JSON.stringify({ batchId, readings: [{ sensor: "t", ts: T0, value: 1 }, { sensor: "t", ts: T0 + 1_000, value: 2 }] }),
        }).then((r) => r.json());
      expect(await send(server.url, "backlog-1")).toMatchObject({ accepted: 2, duplicates: 0 });
      expect(await send(server.url, "backlog-1")).toMatchObject({ accepted: 0, duplicates: 2 });
      expect(server.ingest.ledger.stats.lookups).toBe(0);
      await server.settled();

      // Another log (a second server, or a DATA_DIR whose log was lost) over stores that already
      // hold batches cannot know them all from memory: it asks ClickHouse, and the retry is found.
      const peer = await server.peer();
      try {
        expect(await send(peer.url, "backlog-1")).toMatchObject({ accepted: 0, duplicates: 2 });
        expect(await send(peer.url, "backlog-2")).toMatchObject({ accepted: 2, duplicates: 0 });
        expect(peer.ingest.ledger.stats.lookups).toBeGreaterThan(0);
        await peer.settled();
      } finally {
        await peer.close();
      }
      const [n] = await queryRows<{ n: string }>(server.stores.clickhouse, `SELECT count() AS n FROM ${server.stores.clickhouse.database}.readings`);
      expect(Number(n!.n)).toBe(4);
      void device;
    } finally {
      await server.close();
    }
  });
});

describe("ingest under pressure", () => {
  test("a full queue of readings not yet in ClickHouse answers 429 with Retry-After and loses nothing it acknowledged", async () => {
    const server = await startTestServer("pglite", { ingest: { maxQueueRows: 100, flushMs: 300 } });
    try {
      const owner = await server.client().auth.register.mutate({ email: "pressure@example.com", password: PASSWORD, displayName: "P", client: "app" });
      const { device, token } = await server.client(owner.token!).devices.provision.mutate({ siteId: owner.personalSiteId, name: "d" });
      const send = (batchId: string) =>
        fetch(`${server.url}/v1/ingest`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}` },
          body: JSON.stringify({ batchId, readings: Array.from({ length: 80 }, (_, i) => ({ sensor: "t", ts: T0 + i, value: i })) }),
        });
      // Warm the sensor cache so both requests reach the queue together, with the queue empty.
      expect((await send("warm")).status).toBe(200);
      await server.settled();
      const [first, second] = await Promise.all([send("one"), send("two")]);
      const statuses = [first.status, second.status].sort();
      expect(statuses).toEqual([200, 429]);
      const refused = first.status === 429 ? first : second;
      expect(refused.headers.get("retry-after")).toBe("1");
      void device;
      await server.settled();
      const n = await queryRows<{ n: string }>(server.stores.clickhouse, `SELECT count() AS n FROM ${server.stores.clickhouse.database}.readings`);
      expect(Number(n[0]!.n)).toBe(160);
    } finally {
      await server.close();
    }
  });

  test("while ClickHouse fails, batches are still acknowledged from the log, /readyz says so, and they land once it is back", async () => {
    const server = await startTestServer("pglite");
    try {
      const owner = await server.client().auth.register.mutate({ email: "down@example.com", password: PASSWORD, displayName: "D", client: "app" });
      const { token } = await server.client(owner.token!).devices.provision.mutate({ siteId: owner.personalSiteId, name: "d" });
      const ch = server.stores.clickhouse;
      await ch.client.command({ query: `RENAME TABLE ${ch.database}.readings TO ${ch.database}.readings_away` });
      const response = await fetch(`${server.url}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ batchId: "held-1", readings: [{ sensor: "t", ts: Date.now(), value: 1 }] }),
      });
      // Durable in the write-ahead log: acknowledged, though ClickHouse cannot take it yet.
      expect(await response.json()).toMatchObject({ accepted: 1, duplicates: 0 });
      let ready = await fetch(`${server.url}/readyz`);
      for (let i = 0; i < 100 && ready.status === 200; i++) {
        await Bun.sleep(20);
        ready = await fetch(`${server.url}/readyz`);
      }
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toContain("ingest: last insert failed");
      // A retry meanwhile is a duplicate: the log has it.
      const retry = await fetch(`${server.url}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ batchId: "held-1", readings: [{ sensor: "t", ts: Date.now(), value: 1 }] }),
      });
      expect(await retry.json()).toMatchObject({ accepted: 0, duplicates: 1 });
      // Back again: the flusher's retry stores it, once, and readiness recovers.
      await ch.client.command({ query: `RENAME TABLE ${ch.database}.readings_away TO ${ch.database}.readings` });
      await server.settled();
      const n = await queryRows<{ n: string }>(ch, `SELECT count() AS n FROM ${ch.database}.readings`);
      expect(Number(n[0]!.n)).toBe(1);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
