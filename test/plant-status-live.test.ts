import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PlantStatus } from "../shared/schemas/plant-status";
import { gardenOwner, post, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * `live.plantStatus` follows the values themselves, not only alerts: a reading that changes a
 * plant's latest value (in range: no rule fires, no alert changes) is pushed once ingest has put
 * it in ClickHouse, where the status is read from. (The dashboard's cards show these values.)
 */

const MIN = 60_000;

for (const engine of postgresEngines) {
  describe(`live plant status on ${engine}`, () => {
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let plantId: string;

    beforeAll(async () => {
      server = await startTestServer(engine);
      ({ api, siteId } = await gardenOwner(server, `status-live-${engine}@example.com`));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "window hub" });
      token = provisioned.token;
      const plant = await api.plants.create.mutate({ siteId, name: "Basil", thresholds: { soil_moisture: { min: 30, max: 70 } } });
      plantId = plant.id;
      await api.sensors.create.mutate({ siteId, deviceId: provisioned.device.id, key: "soil", metric: "soil_moisture", plantId });
    });
    afterAll(() => server.close());

    test("a new value in range is pushed, without an alert or any other change to wake the stream", async () => {
      await post(server, token, [{ sensor: "soil", ts: Date.now() - MIN, value: 41.2 }]);
      const events: PlantStatus[] = [];
      const errors: unknown[] = [];
      const sub = api.live.plantStatus.subscribe({ siteId, plantId }, { onData: (s) => events.push(s), onError: (e) => errors.push(e) });
      const waitFor = async (predicate: () => boolean, what: string) => {
        const deadline = Date.now() + 5_000;
        while (!predicate() && Date.now() < deadline) await Bun.sleep(20);
        if (!predicate()) throw new Error(`${what} not pushed in 5 s; got ${JSON.stringify(events.map((e) => e.metrics.map((m) => m.value)))} ${String(errors)}`);
      };
      try {
        await waitFor(() => events.length === 1, "the current status");
        expect(events[0]!.metrics.map((m) => m.value)).toEqual([41.2]);
        for (const value of [47.5, 52, 44.8]) {
          // Past the stream's coalescing interval: the batch's own arrival is what wakes it.
          await Bun.sleep(200);
          await post(server, token, [{ sensor: "soil", ts: Date.now(), value }], false);
          await waitFor(() => events.at(-1)!.metrics[0]!.value === value, `${value}`);
          expect(events.at(-1)).toMatchObject({ plantId, state: "ok", problems: [] });
        }
        expect(errors).toEqual([]);
      } finally {
        sub.unsubscribe();
      }
    });
  });
}
