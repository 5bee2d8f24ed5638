import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { sensors } from "../db/schema";
import { gardenOwner, logOf, type Api } from "./support/garden";
import { startTestServer, type PeerServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * The site directory (server/sites/directory.ts) is the one cache of site facts, kept current by
 * change events sent in the writing transaction. Two servers on one database: what is changed on
 * one applies on the other within the time a notification takes, well under a second; and a
 * change made outside the API (straight in SQL) is seen too.
 */

const PROMPTLY_MS = 1_000;

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, limitMs = 5_000): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() - started > limitMs) return { value, ms: Date.now() - started };
    await Bun.sleep(5);
  }
}

for (const engine of postgresEngines) {
  describe(`the site directory across two servers on ${engine}`, () => {
    let server: TestServer;
    let peer: PeerServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let deviceId: string;
    let n = 0;

    beforeAll(async () => {
      server = await startTestServer(engine);
      peer = await server.peer();
      ({ api, siteId } = await gardenOwner(server, `directory-${engine}@example.com`));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "hub" });
      token = provisioned.token;
      deviceId = provisioned.device.id;
    });
    afterAll(async () => {
      await peer.close();
      await server.close();
    });

    /** Posts one reading of `key` to the peer and answers the value stored for it. */
    async function storedOnPeer(key: string, raw: number): Promise<number | null> {
      const ts = Date.now() - 60_000 + ++n;
      const response = await fetch(`${peer.url}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ batchId: `dir-${n}`, attempt: 1, readings: [{ sensor: key, ts, value: raw }] }),
      });
      expect(response.status).toBe(200);
      await peer.settled();
      const sensorId = (await peer.directory.site(siteId))!.sensorsByDevice.get(deviceId)!.get(key)!.id;
      const result = await server.stores.clickhouse.client.query({
        query: `SELECT value FROM ${server.stores.clickhouse.database}.readings WHERE sensor_id = {id:UUID} AND ts = fromUnixTimestamp64Milli({ts:Int64})`,
        query_params: { id: sensorId, ts },
        format: "JSONEachRow",
      });
      const rows = await result.json<{ value: number }>();
      return rows[0]?.value ?? null;
    }

    /** How long until the peer's directory shows what `done` looks for. */
    const peerSees = (done: (site: NonNullable<Awaited<ReturnType<PeerServer["directory"]["site"]>>>) => boolean) =>
      until(async () => (await peer.directory.site(siteId))!, done);

    test("a calibration set on one server applies to the next batch ingested by the other", async () => {
      expect(await storedOnPeer("soil1", 500)).toBe(500); // known to the peer, uncalibrated
      const sensor = (await api.sensors.list.query({ siteId, deviceId })).items.find((s) => s.key === "soil1")!;
      await api.sensors.setCalibration.mutate({ siteId, sensorId: sensor.id, rawLow: 0, valueLow: 0, rawHigh: 1000, valueHigh: 100 });
      const { ms } = await peerSees((site) => site.sensors.get(sensor.id)?.calibration?.rawHigh === 1000);
      expect(ms).toBeLessThan(PROMPTLY_MS);
      expect(await storedOnPeer("soil1", 500)).toBe(50);
    });

    test("a change made outside the API, straight in Postgres, reaches every server's directory", async () => {
      expect(await storedOnPeer("probe", 10)).toBe(10);
      await server.stores.db
        .update(sensors)
        .set({ calibrationRawLow: 0, calibrationValueLow: 0, calibrationRawHigh: 10, calibrationValueHigh: 20 })
        .where(eq(sensors.key, "probe"));
      const { ms } = await peerSees((site) => site.sensorsByDevice.get(deviceId)?.get("probe")?.calibration?.valueHigh === 20);
      expect(ms).toBeLessThan(PROMPTLY_MS);
      expect(await storedOnPeer("probe", 10)).toBe(20);
    });

    test("a rule created on one server judges the next batch the other ingests", async () => {
      expect(await storedOnPeer("temp", 20)).toBe(20);
      const sensor = (await api.sensors.list.query({ siteId, deviceId })).items.find((s) => s.key === "temp")!;
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Hot",
        kind: "threshold",
        target: { type: "sensor", sensorId: sensor.id },
        comparison: "above",
        threshold: 30,
        actions: [{ type: "alert", severity: "warning", title: "hot" }],
      });
      const { ms } = await peerSees((site) => site.rules.some((r) => r.id === rule.id));
      expect(ms).toBeLessThan(PROMPTLY_MS);
      await storedOnPeer("temp", 35);
      await peer.settled();
      const fired = (await logOf(api, siteId, { ruleId: rule.id })).filter((e) => e.event === "fired");
      expect(fired).toHaveLength(1);
    });

    test("a fleet of new devices registers its sensors without the site being read again, and the other server learns of them", async () => {
      const fleet = await Promise.all(Array.from({ length: 12 }, (_, i) => api.devices.provision.mutate({ siteId, name: `new-${i}` })));
      // Provisioning changed the site: the first batch after it reads the site once.
      const post = (url: string, deviceToken: string, batchId: string, readings: unknown[]) =>
        fetch(`${url}/v1/ingest`, { method: "POST", headers: { authorization: `Bearer ${deviceToken}` }, body: JSON.stringify({ batchId, readings }) });
      expect((await post(server.url, token, `warm-${++n}`, [{ sensor: "soil1", value: 1 }])).status).toBe(200);
      const loadsBefore = server.directory.loads;
      const keys = Array.from({ length: 10 }, (_, k) => `fleet${k}`);
      const answers = await Promise.all(
        fleet.map(({ token: deviceToken }, i) => post(server.url, deviceToken, `first-${i}`, keys.map((key, k) => ({ sensor: key, value: i * 100 + k })))),
      );
      expect(answers.map((a) => a.status)).toEqual(fleet.map(() => 200));
      await server.settled();
      expect(server.directory.loads - loadsBefore).toBe(0);

      // This server's analytics know them at once; the other server reads the site again.
      const ids = new Set((await server.directory.site(siteId))!.sensorList.filter((s) => s.key.startsWith("fleet")).map((s) => s.id));
      expect(ids.size).toBe(120);
      const latest = new Set((await api.analytics.latest.query({ siteId })).values.sensorId);
      for (const id of ids) expect(latest.has(id)).toBe(true);
      const { ms } = await peerSees((site) => [...ids].every((id) => site.sensors.has(id)));
      expect(ms).toBeLessThan(PROMPTLY_MS);
      // The facts built for the new sensors are those a full read builds.
      const loaded = (await peer.directory.site(siteId))!;
      for (const id of ids) expect((await server.directory.site(siteId))!.sensors.get(id)).toEqual(loaded.sensors.get(id)!);
      expect((await server.directory.site(siteId))!.sensorList.map((s) => s.id)).toEqual(loaded.sensorList.map((s) => s.id));
    });

    test("over a hundred sensors created in one statement are announced as a plain change, and every server reads them", async () => {
      const { device } = await api.devices.provision.mutate({ siteId, name: "many-channels" });
      await server.stores.db.insert(sensors).values(Array.from({ length: 150 }, (_, k) => ({ siteId, deviceId: device.id, key: `ch${k}`, metric: "unknown", unit: "" })));
      for (const directory of [server.directory, peer.directory]) {
        const { value, ms } = await until(async () => (await directory.site(siteId))!, (site) => site.sensorsByDevice.get(device.id)?.size === 150);
        expect(value.sensorsByDevice.get(device.id)?.size).toBe(150);
        expect(ms).toBeLessThan(PROMPTLY_MS);
      }
    });

    test("a server sees its own writes at once: a sensor assigned through it is in the next call's scope", async () => {
      const plant = await api.plants.create.mutate({ siteId, name: "Mint" });
      const sensor = (await api.sensors.list.query({ siteId, deviceId })).items.find((s) => s.key === "soil1")!;
      await api.sensors.assign.mutate({ siteId, sensorId: sensor.id, plantId: plant.id });
      const latest = await api.analytics.latest.query({ siteId, plantIds: [plant.id] });
      expect(latest.values.sensorId).toEqual([sensor.id]);
    });
  });
}
