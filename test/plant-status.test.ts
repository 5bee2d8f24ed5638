import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PlantStatus } from "../shared/schemas/plant-status";
import { testClock } from "./support/clock";
import { gardenOwner, post, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

/**
 * Plant status through the typed client, with readings ingested through POST /v1/ingest: what is
 * wrong with a plant now (value, bound in force and where it comes from, since when), which
 * sensors are silent, and a live stream that pushes a plant's status when, and only when, it changes.
 */

const MIN = 60_000;

/** Subscribes and collects; `waitFor` polls the collected statuses until the predicate holds. */
function collect(subscribe: (handlers: { onData: (d: PlantStatus) => void; onError: (e: unknown) => void }) => { unsubscribe(): void }) {
  const events: PlantStatus[] = [];
  const errors: unknown[] = [];
  const sub = subscribe({ onData: (d) => events.push(d), onError: (e) => errors.push(e) });
  return {
    events,
    async waitFor(predicate: (events: PlantStatus[]) => boolean, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events) && Date.now() < deadline) await Bun.sleep(20);
      if (!predicate(events)) throw new Error(`condition not met in ${timeoutMs} ms; got ${JSON.stringify(events)} errors ${String(errors)}`);
      return events;
    },
    stop: () => sub.unsubscribe(),
  };
}

for (const engine of postgresEngines) {
  describe(`plant status on ${engine}`, () => {
    // Near the real time: ClickHouse applies the raw TTL by its own clock.
    const clock = testClock(new Date(Math.floor(Date.now() / MIN) * MIN));
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let deviceId: string;

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      ({ api, siteId } = await gardenOwner(server, `status-${engine}@example.com`));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "balcony hub" });
      token = provisioned.token;
      deviceId = provisioned.device.id;
    });
    afterAll(() => server.close());

    async function plantWithSoil(name: string, key: string, min = 30) {
      const plant = await api.plants.create.mutate({ siteId, name, thresholds: { soil_moisture: { min } } });
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key, metric: "soil_moisture", plantId: plant.id });
      return { plantId: plant.id, sensorId: sensor.id };
    }
    const statusOf = async (plantId: string) => (await api.plants.status.query({ siteId, plantId })).items[0]!;

    test("ok → attention (the problem named with value, bound and its source) → ok as values cross and recross the bound, with the rules' hysteresis", async () => {
      const { plantId, sensorId } = await plantWithSoil("Fern", "fern-soil");
      // Within the stale threshold (two report intervals of 5 minutes) of the clock.
      const t0 = clock.now().getTime() - 8 * MIN;
      const steps: [number, "ok" | "attention", string | null, number | null][] = [
        // value, state, message, since (minutes after t0)
        [40, "ok", null, null],
        [25, "attention", "soil moisture 25 %, below 30 %", 1],
        // Back in range but not past the band (3 points for soil moisture): still a problem, as the rule still fires.
        [31, "attention", "soil moisture 31 %, was below 30 % (clears above 33 %)", 1],
        [29, "attention", "soil moisture 29 %, below 30 %", 1],
        [34, "ok", null, null],
        [28, "attention", "soil moisture 28 %, below 30 %", 5],
      ];
      for (const [i, [value, state, message, since]] of steps.entries()) {
        await post(server, token, [{ sensor: "fern-soil", ts: t0 + i * MIN, value }]);
        const status = await statusOf(plantId);
        expect(status.state).toBe(state);
        expect(status.metrics).toEqual([
          {
            metric: "soil_moisture",
            sensorId,
            label: "fern-soil",
            unit: "%",
            value,
            at: new Date(t0 + i * MIN),
            stale: false,
            min: { value: 30, source: "plant" },
            max: { value: null, source: "none" },
          },
        ]);
        expect(status.problems).toEqual(
          message === null
            ? []
            : [{ metric: "soil_moisture", sensorId, value, bound: 30, direction: "below", source: "plant", since: new Date(t0 + since! * MIN), message }],
        );
      }
    });

    test("a bound from the species says so, and an excursion above the maximum is a problem too", async () => {
      const [monstera] = (await api.species.search.query({ query: "monstera deliciosa" })).items;
      const plant = await api.plants.create.mutate({ siteId, name: "Monstera", speciesId: monstera!.id });
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key: "monstera-temp", metric: "temperature", plantId: plant.id });
      const max = monstera!.care.temperature.max;
      const t = clock.now().getTime() - 2 * MIN;
      await post(server, token, [{ sensor: "monstera-temp", ts: t, value: max + 4 }]);
      const status = await statusOf(plant.id);
      expect(status.state).toBe("attention");
      expect(status.metrics[0]).toMatchObject({ min: { value: monstera!.care.temperature.min, source: "species" }, max: { value: max, source: "species" } });
      expect(status.problems).toEqual([
        { metric: "temperature", sensorId: sensor.id, value: max + 4, bound: max, direction: "above", source: "species", since: new Date(t), message: `temperature ${max + 4} °C, above ${max} °C` },
      ]);
    });

    test("one call for the whole site returns every living plant, by name; no sensors or no readings yet is no_data", async () => {
      const site = await gardenOwner(server, `status-site-${engine}@example.com`);
      const hub = await site.api.devices.provision.mutate({ siteId: site.siteId, name: "hub" });
      const names = ["Zebra plant", "Aloe", "Maranta", "Old pothos"];
      const ids: Record<string, string> = {};
      for (const name of names) ids[name] = (await site.api.plants.create.mutate({ siteId: site.siteId, name, thresholds: { soil_moisture: { min: 20 } } })).id;
      await site.api.sensors.create.mutate({ siteId: site.siteId, deviceId: hub.device.id, key: "aloe", metric: "soil_moisture", plantId: ids.Aloe! });
      await site.api.sensors.create.mutate({ siteId: site.siteId, deviceId: hub.device.id, key: "maranta", metric: "soil_moisture", plantId: ids.Maranta! });
      await site.api.plants.archive.mutate({ siteId: site.siteId, plantId: ids["Old pothos"]! });
      await post(server, hub.token, [{ sensor: "aloe", ts: clock.now().getTime() - MIN, value: 45 }]);
      const { items } = await site.api.plants.status.query({ siteId: site.siteId });
      expect(items.map((s) => [s.name, s.state])).toEqual([
        ["Aloe", "ok"],
        ["Maranta", "no_data"], // a sensor that never reported
        ["Zebra plant", "no_data"], // no sensor at all
      ]);
      expect(items.find((s) => s.name === "Zebra plant")).toMatchObject({ metrics: [], problems: [], offline: [], battery: null, lastWateredAt: null, wateringPaused: null });
      // Another site's plant is not found, like a missing one.
      expect(await failureOf(api.plants.status.query({ siteId, plantId: ids.Aloe! }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "plantId", message: "plant not found" }] });
    });

    test("offline: every sensor silent beyond its device's report interval; one silent of two is attention", async () => {
      const basil = await plantWithSoil("Basil", "basil-soil");
      const temp = await api.sensors.create.mutate({ siteId, deviceId, key: "basil-temp", metric: "temperature", plantId: basil.plantId });
      await api.devices.update.mutate({ siteId, deviceId, expectedReportIntervalSeconds: 300 });
      const last = clock.now().getTime() - 30 * MIN; // stale after 2 intervals: 10 minutes
      await post(server, token, [
        { sensor: "basil-soil", ts: last, value: 50 },
        { sensor: "basil-temp", ts: last, value: 21 },
      ]);
      let status = await statusOf(basil.plantId);
      expect(status.state).toBe("offline");
      expect(status.offline).toEqual([
        { sensorId: basil.sensorId, deviceId, label: "basil-soil", lastSeenAt: new Date(last), since: new Date(last + 10 * MIN) },
        { sensorId: temp.id, deviceId, label: "basil-temp", lastSeenAt: new Date(last), since: new Date(last + 10 * MIN) },
      ].sort((a, b) => a.sensorId.localeCompare(b.sensorId)));
      expect(status.metrics.every((m) => m.stale)).toBe(true);
      await post(server, token, [{ sensor: "basil-temp", ts: clock.now().getTime() - MIN, value: 21 }]);
      status = await statusOf(basil.plantId);
      expect(status.state).toBe("attention");
      expect(status.problems).toEqual([]);
      expect(status.offline.map((o) => o.sensorId)).toEqual([basil.sensorId]);
    });

    test("live: a plant's status is pushed when it changes, and not when nothing about it changed", async () => {
      const { plantId } = await plantWithSoil("Calathea", "calathea-soil");
      const other = await plantWithSoil("Peperomia", "peperomia-soil");
      const t = clock.now().getTime() - 10 * MIN;
      await post(server, token, [{ sensor: "calathea-soil", ts: t, value: 45 }]);
      const sub = collect((h) => api.live.plantStatus.subscribe({ siteId, plantId }, h));
      // Its current status first.
      await sub.waitFor((e) => e.length === 1);
      expect(sub.events[0]).toMatchObject({ plantId, state: "ok", metrics: [{ value: 45 }] });
      // Another plant's reading and a command poll (a heartbeat) change nothing here.
      await post(server, token, [{ sensor: "peperomia-soil", ts: t + MIN, value: 12 }]);
      await fetch(`${server.url}/v1/commands`, { headers: { authorization: `Bearer ${token}` } });
      await server.automation.idle();
      await Bun.sleep(300);
      expect(sub.events).toHaveLength(1);
      expect((await statusOf(other.plantId)).state).toBe("attention");
      // A dry reading of this plant: pushed, with its problem.
      await post(server, token, [{ sensor: "calathea-soil", ts: t + 2 * MIN, value: 20 }]);
      await sub.waitFor((e) => e.length === 2);
      expect(sub.events[1]).toMatchObject({ plantId, state: "attention", problems: [{ metric: "soil_moisture", value: 20, bound: 30, direction: "below" }] });
      // Back past the band: pushed again. (A status computed while the batch is being written may
      // see one table of ClickHouse with it and another without: one more push then follows.)
      await post(server, token, [{ sensor: "calathea-soil", ts: t + 3 * MIN, value: 40 }]);
      await sub.waitFor((e) => e.some((s) => s.state === "ok" && s.metrics[0]?.value === 40));
      const settled = sub.events.length;
      expect(sub.events.at(-1)).toMatchObject({ plantId, state: "ok", problems: [], metrics: [{ value: 40 }] });
      expect(settled).toBeLessThanOrEqual(4);
      // Nothing changes any more: nothing more is pushed.
      await server.automation.idle();
      await Bun.sleep(300);
      expect(sub.events).toHaveLength(settled);
      sub.stop();
    });

    test("bad input names the field", async () => {
      expect(await failureOf(api.plants.status.query({ siteId, plantId: "not-a-uuid" }))).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "plantId" }] });
    });
  });
}
