import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq, like } from "drizzle-orm";
import { commands } from "../db/schema";
import { AutomationEngine } from "../server/pipelines/automation/engine";
import { createLogger } from "../server/platform/logger";
import { testClock } from "./support/clock";
import { ack, fetchCommands, gardenOwner, logOf, post, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

const MIN = 60_000;
const HOUR = 60 * MIN;

for (const engine of postgresEngines) {
  describe(`safe watering on ${engine}`, () => {
    // Near the real time (ClickHouse applies the raw TTL by its own clock), at 08:00 UTC today.
    const today = new Date();
    const clock = testClock(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 8)));
    if (clock.now().getTime() > Date.now()) clock.advance(-24 * HOUR);
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let deviceId: string;

    /** A plant with a soil sensor (key `soil-<name>`), a pump of 5 ml/s (30 s max) and a "dry below 30" rule that waters 100 ml. */
    async function wateredPlant(name: string, safety: { cooldownMinutes?: number; dailyVolumeCapMl?: number | null; minRise?: number; riseWindowMinutes?: number }) {
      const plantId = (await api.plants.create.mutate({ siteId, name })).id;
      await api.sensors.create.mutate({ siteId, deviceId, key: `soil-${name}`, metric: "soil_moisture", plantId });
      const pump = await api.actuators.create.mutate({ siteId, deviceId, key: `pump-${name}`, kind: "pump", flowRateMlPerSecond: 5, maxRunSeconds: 30, plantId });
      await api.wateringSafety.update.mutate({ siteId, plantId, ...safety });
      const rule = await api.rules.create.mutate({
        siteId,
        name: `${name} dry`,
        kind: "threshold",
        target: { type: "plant", plantId },
        metric: "soil_moisture",
        comparison: "below",
        threshold: 30,
        actions: [{ type: "command", actuatorId: pump.id, command: { action: "pump", ml: 100 } }],
      });
      return { plantId, pumpId: pump.id, ruleId: rule.id, key: `soil-${name}` };
    }
    const pumpCommands = async (pumpId: string) => (await api.commands.list.query({ siteId, actuatorId: pumpId, limit: 100 })).items;
    const drainDevice = async () => {
      for (const c of await fetchCommands(server, token)) await ack(server, token, c.id, "succeeded");
    };

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      ({ api, siteId } = await gardenOwner(server, `water-${engine}@example.com`, "Europe/Berlin"));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "irrigation" });
      token = provisioned.token;
      deviceId = provisioned.device.id;
    });
    afterAll(() => server.close());

    test("cooldown and the daily cap hold under bursts of low readings", async () => {
      const plant = await wateredPlant("Tomato", { cooldownMinutes: 60, dailyVolumeCapMl: 250 });
      let ts = clock.now().getTime() - 10 * MIN;
      /** 20 batches at once, the signal flapping around 30 (no band): every low reading fires the rule. */
      const burst = async () => {
        const start = ts;
        ts += 40 * 1000;
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => post(server, token, [{ sensor: plant.key, ts: start + i * 1000, value: i % 2 === 0 ? 20 : 40 }], false)),
        );
        await server.settled();
      };
      await burst();
      expect(await pumpCommands(plant.pumpId)).toHaveLength(1);
      const [first] = await pumpCommands(plant.pumpId);
      expect(first).toMatchObject({ action: "pump", volumeMl: 100, durationSeconds: 20, maxRunSeconds: 30 });
      // The device gets the envelope: the pump stops by itself after 30 s.
      expect((await fetchCommands(server, token)).map((c) => [c.ml, c.seconds, c.maxRunSeconds])).toEqual([[100, 20, 30]]);
      await drainDevice();
      const skipped = (await logOf(api, siteId, { ruleId: plant.ruleId })).filter((e) => e.event === "skipped");
      expect(skipped.length).toBeGreaterThan(0);
      expect(skipped.every((e) => e.message.startsWith("watering skipped: cooldown"))).toBe(true);

      // An hour later the cooldown has passed: one more watering (200 ml today).
      clock.advance(61 * MIN);
      ts = clock.now().getTime() - 5 * MIN;
      await burst();
      expect(await pumpCommands(plant.pumpId)).toHaveLength(2);
      await drainDevice();

      // Another hour: 200 + 100 would exceed the cap of 250 ml.
      clock.advance(61 * MIN);
      ts = clock.now().getTime() - 5 * MIN;
      await burst();
      expect(await pumpCommands(plant.pumpId)).toHaveLength(2);
      const capped = (await logOf(api, siteId, { ruleId: plant.ruleId })).filter((e) => e.message.includes("daily cap"));
      expect(capped.length).toBeGreaterThan(0);
      expect(capped[0]!.message).toContain("200 ml of 250 ml used today");

      // The next calendar day in Berlin, the cap starts over.
      clock.advance(24 * HOUR);
      ts = clock.now().getTime() - 5 * MIN;
      await burst();
      expect(await pumpCommands(plant.pumpId)).toHaveLength(3);
      await drainDevice();
      const ledger = (await api.waterings.list.query({ siteId, plantId: plant.plantId })).items;
      expect(ledger.filter((w) => w.source === "automatic").map((w) => w.volumeMl)).toEqual([100, 100, 100]);
    });

    test("moisture did not rise after watering: automatic watering pauses and a critical alert is raised", async () => {
      const plant = await wateredPlant("Pepper", { cooldownMinutes: 0, dailyVolumeCapMl: null, minRise: 3, riseWindowMinutes: 30 });
      const t0 = clock.now().getTime();
      await post(server, token, [{ sensor: plant.key, ts: t0 - MIN, value: 20 }]);
      const [command] = await pumpCommands(plant.pumpId);
      expect(command).toBeDefined();
      const ledger = async () => (await api.waterings.list.query({ siteId, plantId: plant.plantId })).items.find((w) => w.commandId === command!.id)!;
      expect(await ledger()).toMatchObject({ source: "automatic", status: "pending", moistureBefore: 20 });
      await ack(server, token, command!.id, "acknowledged");
      clock.advance(20_000);
      await ack(server, token, command!.id, "succeeded");
      const finished = clock.now().getTime();
      // Soil barely moves: the pump ran dry.
      clock.set(new Date(finished + 29 * MIN));
      for (let m = 1; m <= 6; m++) await post(server, token, [{ sensor: plant.key, ts: finished + m * 5 * MIN - 10 * MIN, value: 20 + m * 0.2 }]);
      await server.automation.tick(clock.now());
      expect((await api.wateringSafety.get.query({ siteId, plantId: plant.plantId })).autoWateringPaused).toBe(false);
      clock.set(new Date(finished + 31 * MIN));
      await server.automation.tick(clock.now());
      const safety = await api.wateringSafety.get.query({ siteId, plantId: plant.plantId });
      expect(safety).toMatchObject({ autoWateringPaused: true });
      expect(safety.pausedReason).toContain("did not rise by 3 within 30 min");
      const [alert] = (await api.alerts.list.query({ siteId, plantId: plant.plantId, status: "active" })).items;
      expect(alert).toMatchObject({ severity: "critical", rule: "watering.no_rise" });
      expect(alert!.title).toBe("Pepper: watering did not raise soil moisture; automatic watering paused");
      expect(await ledger()).toMatchObject({ status: "completed", moistureBefore: 20, moistureAfter: 21.2 });
      // Paused: the next dry reading (after a clear one) does not water.
      await post(server, token, [{ sensor: plant.key, ts: clock.now().getTime() - 2 * MIN, value: 35 }, { sensor: plant.key, ts: clock.now().getTime() - MIN, value: 19 }]);
      expect(await pumpCommands(plant.pumpId)).toHaveLength(1);
      const log = await logOf(api, siteId, { plantId: plant.plantId });
      expect(log.some((e) => e.event === "paused")).toBe(true);
      expect(log.filter((e) => e.event === "skipped").map((e) => e.message)).toEqual([expect.stringContaining("watering skipped: automatic watering is paused: soil moisture did not rise")]);

      // A person refills the reservoir and resumes; this time the soil responds.
      expect(await api.wateringSafety.resume.mutate({ siteId, plantId: plant.plantId })).toMatchObject({ autoWateringPaused: false, pausedReason: null });
      clock.advance(MIN);
      await post(server, token, [{ sensor: plant.key, ts: clock.now().getTime() - 30_000, value: 35 }, { sensor: plant.key, ts: clock.now().getTime(), value: 18 }]);
      const second = (await pumpCommands(plant.pumpId)).find((c) => c.id !== command!.id)!;
      expect(second).toBeDefined();
      await ack(server, token, second.id, "succeeded");
      await post(server, token, [{ sensor: plant.key, ts: clock.now().getTime() + 60_000, value: 31 }]);
      clock.advance(2 * MIN);
      await server.automation.tick(clock.now());
      const after = (await api.waterings.list.query({ siteId, plantId: plant.plantId })).items.find((w) => w.commandId === second.id)!;
      expect(after).toMatchObject({ moistureBefore: 18, moistureAfter: 31, status: "completed" });
      expect((await api.wateringSafety.get.query({ siteId, plantId: plant.plantId })).autoWateringPaused).toBe(false);
      expect((await logOf(api, siteId, { plantId: plant.plantId })).some((e) => e.event === "resumed")).toBe(true);
    });

    test("a moisture jump nobody commanded is recorded as a detected watering, once; one explained by a watering is not", async () => {
      const plantId = (await api.plants.create.mutate({ siteId, name: "Fern" })).id;
      await api.sensors.create.mutate({ siteId, deviceId, key: "soil-fern", metric: "soil_moisture", plantId });
      await server.automation.tick(clock.now()); // the first scan starts here
      const t = clock.now().getTime();
      const series = [25, 25.5, 24.8, 40, 39.5, 39];
      clock.advance(31 * MIN);
      await post(server, token, series.map((value, i) => ({ sensor: "soil-fern", ts: t + (i - 5) * 5 * MIN + 30 * MIN, value })));
      await server.automation.tick(clock.now());
      await server.automation.tick(clock.now());
      let waterings = (await api.waterings.list.query({ siteId, plantId })).items;
      expect(waterings).toHaveLength(1);
      const jump = series.findIndex((v, i) => i > 0 && v - series[i - 1]! >= 8);
      expect(waterings[0]).toMatchObject({ source: "detected", status: "completed", moistureBefore: series[jump - 1], moistureAfter: series[jump] });
      expect(waterings[0]!.startedAt.getTime()).toBe(t + (jump - 5) * 5 * MIN + 30 * MIN);

      // A person records a watering; the jump that follows is theirs.
      await api.waterings.record.mutate({ siteId, plantId, volumeMl: 300 });
      const t2 = clock.now().getTime();
      await post(server, token, [{ sensor: "soil-fern", ts: t2 + MIN, value: 30 }, { sensor: "soil-fern", ts: t2 + 2 * MIN, value: 45 }]);
      clock.advance(5 * MIN);
      await server.automation.tick(clock.now());
      waterings = (await api.waterings.list.query({ siteId, plantId })).items;
      expect(waterings.map((w) => w.source).sort()).toEqual(["detected", "manual"]);
    });

    test("a firing evaluated twice (as by a second server) queues one command: the idempotency key is deterministic", async () => {
      const plant = await wateredPlant("Chili", { cooldownMinutes: 0, dailyVolumeCapMl: null });
      await post(server, token, [{ sensor: plant.key, ts: clock.now().getTime() - MIN, value: 10 }]);
      const keys = (await server.stores.db.select({ key: commands.idempotencyKey }).from(commands).where(and(eq(commands.actuatorId, plant.pumpId), like(commands.idempotencyKey, "r:%")))).map((r) => r.key);
      expect(keys).toHaveLength(1);
      // Replaying the same firing (as a second server evaluating the same batch would) is a no-op.
      const { runActions } = await import("../server/pipelines/automation/actions");
      const rule = await api.rules.get.query({ siteId, ruleId: plant.ruleId });
      await runActions(
        {
          db: server.stores.db,
          clickhouse: server.stores.clickhouse,
          notify: async () => {},
          site: (await server.directory.site(siteId))!,
          siteId,
          ruleId: plant.ruleId,
          plantId: plant.plantId,
          alert: { rule: `rule:${plant.ruleId}`, subject: keys[0]!.split(":")[2]! },
          values: {},
          idempotencyKey: keys[0]!.replace(/:0$/, ""),
          wateringSource: "automatic",
          source: `rule:${plant.ruleId}`,
          now: clock.now(),
        },
        rule.actions,
      );
      expect(await pumpCommands(plant.pumpId)).toHaveLength(1);
      expect((await api.waterings.list.query({ siteId, plantId: plant.plantId })).items).toHaveLength(1);
      await drainDevice();
    });

    test("two engines judging the same batch at once: the rule fires once and waters once", async () => {
      const plant = await wateredPlant("Mint", { cooldownMinutes: 0, dailyVolumeCapMl: null });
      // A second engine on the same event hub and database, as if both servers saw the batch.
      const second = new AutomationEngine({
        db: () => server.stores.db,
        clickhouse: () => server.stores.clickhouse,
        directory: server.directory,
        events: server.events,
        log: createLogger("silent"),
        now: clock.now,
        notify: async () => {},
        tickIntervalMs: 0,
      });
      second.start();
      // Each batch goes to both engines at once.
      await server.ingest.attach((batch) => Promise.all([server.automation.evaluate(batch), second.evaluate(batch)]).then(() => {}));
      try {
        const t = clock.now().getTime();
        for (const [i, value] of [25, 40, 22].entries()) {
          await post(server, token, [{ sensor: plant.key, ts: t - 10 * MIN + i * MIN, value }], false);
          await server.settled();
        }
      } finally {
        await server.ingest.attach((batch) => server.automation.evaluate(batch));
        await second.stop();
      }
      const log = await logOf(api, siteId, { ruleId: plant.ruleId });
      expect(log.filter((e) => e.event === "fired")).toHaveLength(2);
      expect(log.filter((e) => e.event === "cleared")).toHaveLength(1);
      expect(await pumpCommands(plant.pumpId)).toHaveLength(2);
      expect((await api.rules.get.query({ siteId, ruleId: plant.ruleId })).states).toMatchObject([{ status: "firing", firings: 2 }]);
      await drainDevice();
    });
  });
}
