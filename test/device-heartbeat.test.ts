import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testClock } from "./support/clock";
import { ack, gardenOwner, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * Devices that only act are alive: a pump controller that never sends a reading but polls for its
 * commands (or acknowledges them, or checks its token) is seen, shows online, and the plant's
 * built-in offline rule leaves it alone, or clears at once when it is back.
 */

const SECOND = 1_000;
const MIN = 60 * SECOND;

for (const engine of postgresEngines) {
  describe(`heartbeats of devices that only act on ${engine}`, () => {
    const clock = testClock(new Date(Math.floor(Date.now() / MIN) * MIN));
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let plantId: string;
    let pump: { id: string; token: string; actuatorId: string };

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      ({ api, siteId } = await gardenOwner(server, `heartbeat-${engine}@example.com`));
      plantId = (await api.plants.create.mutate({ siteId, name: "Fern", thresholds: { soil_moisture: { min: 30 } } })).id;
      // The plant's soil sensor reports rarely (its own device is judged by a day's interval), so it is watched by built-in rules.
      const hub = await api.devices.provision.mutate({ siteId, name: "soil hub" });
      await api.devices.update.mutate({ siteId, deviceId: hub.device.id, expectedReportIntervalSeconds: 86_400 });
      await api.sensors.create.mutate({ siteId, deviceId: hub.device.id, key: "soil", metric: "soil_moisture", plantId });
      const controller = await api.devices.provision.mutate({ siteId, name: "pump controller" });
      await api.devices.update.mutate({ siteId, deviceId: controller.device.id, kind: "actuator", expectedReportIntervalSeconds: 60 });
      const actuator = await api.actuators.create.mutate({ siteId, deviceId: controller.device.id, key: "pump1", kind: "pump", flowRateMlPerSecond: 10 });
      await api.actuators.assign.mutate({ siteId, actuatorId: actuator.id, plantId });
      pump = { id: controller.device.id, token: controller.token, actuatorId: actuator.id };
    });
    afterAll(() => server.close());

    const poll = async () => {
      const response = await fetch(`${server.url}/v1/commands`, { headers: { authorization: `Bearer ${pump.token}` } });
      expect(response.status).toBe(200);
      await server.automation.idle();
    };
    const pumpAlerts = async () => (await api.alerts.list.query({ siteId, plantId, limit: 100 })).items.filter((a) => a.deviceId === pump.id);
    const offlineRule = async () => (await api.rules.list.query({ siteId, plantId, builtIn: true })).items.find((r) => r.builtIn === "offline")!;

    test("a controller that only polls for commands stays online, and the offline rule watching its plant never fires", async () => {
      const rule = await offlineRule();
      // Ten minutes of polls every 50 s: over three report intervals (180 s) since it was provisioned.
      for (let i = 0; i < 12; i++) {
        clock.advance(50 * SECOND);
        await poll();
        expect((await server.automation.tick(clock.now())).errors).toEqual([]);
      }
      expect(await pumpAlerts()).toEqual([]);
      expect((await api.rules.get.query({ siteId, ruleId: rule.id })).states.find((s) => s.subject === pump.id)?.status ?? "clear").toBe("clear");
      await server.ingest.activity.flush();
      expect((await api.devices.get.query({ siteId, deviceId: pump.id })).lastSeenAt).toEqual(clock.now());
      const health = await api.analytics.deviceHealth.query({ siteId });
      expect(health.devices.find((d) => d.deviceId === pump.id)?.status).toBe("online");
    });

    test("silent, it is raised offline; its next poll clears the alert at once, without waiting for a tick", async () => {
      clock.advance(4 * MIN);
      await server.automation.tick(clock.now());
      const [alert] = await pumpAlerts();
      expect(alert).toMatchObject({ status: "active", title: "Fern: pump controller is offline", direction: "above", bound: 180, metric: null });
      clock.advance(10 * SECOND);
      await poll();
      expect((await api.alerts.get.query({ siteId, alertId: alert!.id })).status).toBe("resolved");
      await server.automation.tick(clock.now());
      expect((await pumpAlerts()).filter((a) => a.status !== "resolved")).toEqual([]);
    });

    test("acknowledging a command and checking its token count as being seen too", async () => {
      const { command } = await api.commands.create.mutate({ siteId, actuatorId: pump.actuatorId, command: { action: "pump", seconds: 2 }, idempotencyKey: "heartbeat-ack" });
      clock.advance(2 * MIN);
      await ack(server, pump.token, command.id, "acknowledged");
      await server.ingest.activity.flush();
      expect((await api.devices.get.query({ siteId, deviceId: pump.id })).lastSeenAt).toEqual(clock.now());
      clock.advance(2 * MIN);
      const whoami = await fetch(`${server.url}/v1/whoami`, { headers: { authorization: `Bearer ${pump.token}` } });
      expect(await whoami.json()).toMatchObject({ deviceId: pump.id });
      await server.ingest.activity.flush();
      expect((await api.devices.get.query({ siteId, deviceId: pump.id })).lastSeenAt).toEqual(clock.now());
      // A bad token is no heartbeat of anyone.
      expect((await fetch(`${server.url}/v1/commands`, { headers: { authorization: "Bearer vdt_nope" } })).status).toBe(401);
    });
  });
}
