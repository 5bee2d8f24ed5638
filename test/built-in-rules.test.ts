import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq, isNotNull } from "drizzle-orm";
import { automationRules } from "../db/schema";
import { startOfLocalDay } from "../server/analytics";
import { testClock } from "./support/clock";
import { gardenOwner, post, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

/**
 * Built-in watching: a plant that gets sensors is watched by default rules from its ranges in
 * force, with no rule written by anyone; they are ordinary rules (listed, switched off per plant or
 * per site), follow the plant's range, step aside for a person's own rule, and alerts keep their
 * numbers. Readings go through POST /v1/ingest, everything else through the typed client.
 */

const MIN = 60_000;
const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`built-in rules on ${engine}`, () => {
    // Near the real time: ClickHouse applies the raw TTL by its own clock.
    const clock = testClock(new Date(Math.floor(Date.now() / MIN) * MIN));
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let deviceId: string;
    let keys = 0;

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      ({ api, siteId } = await gardenOwner(server, `builtin-${engine}@example.com`));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "greenhouse hub" });
      token = provisioned.token;
      deviceId = provisioned.device.id;
    });
    afterAll(() => server.close());

    /** A plant (soil minimum 30 unless told) with a soil sensor the device created by reporting, then assigned. */
    async function dryablePlant(name: string, thresholds: Record<string, { min?: number | null; max?: number | null }> = { soil_moisture: { min: 30 } }) {
      const key = `soil${++keys}`;
      await post(server, token, [{ sensor: key, ts: clock.now().getTime() - 120 * MIN, value: 50 }]);
      const sensor = (await api.sensors.list.query({ siteId, deviceId, limit: 100 })).items.find((s) => s.key === key)!;
      expect(sensor.metric).toBe("soil_moisture");
      const plant = await api.plants.create.mutate({ siteId, name, thresholds });
      await api.sensors.assign.mutate({ siteId, sensorId: sensor.id, plantId: plant.id });
      return { plantId: plant.id, sensorId: sensor.id, key };
    }
    /** Readings of one sensor every 5 minutes, `value` each, over `minutes` ending `endAgo` minutes ago. */
    async function hold(key: string, value: number, minutes: number, endAgo: number) {
      const end = clock.now().getTime() - endAgo * MIN;
      const readings = [];
      for (let t = end - minutes * MIN; t <= end; t += 5 * MIN) readings.push({ sensor: key, ts: t, value });
      await post(server, token, readings);
    }
    const builtIns = async (plantId: string) =>
      (await api.rules.list.query({ siteId, plantId, builtIn: true, limit: 100 })).items.map((r) => [r.builtIn, r.enabled]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    const soilLowOf = async (plantId: string) => (await api.rules.list.query({ siteId, plantId, builtIn: true, limit: 100 })).items.find((r) => r.builtIn === "soil_moisture.low");
    const openAlerts = async (plantId: string) => (await api.alerts.list.query({ siteId, plantId, limit: 100 })).items.filter((a) => a.status !== "resolved");

    test("a new plant with a soil sensor raises the built-in low-moisture alert, with its numbers, without a rule written by anyone", async () => {
      const { plantId, sensorId, key } = await dryablePlant("Ficus");
      expect(await builtIns(plantId)).toEqual([
        ["battery", true],
        ["offline", true],
        ["soil_moisture.low", true],
      ]);
      const rule = (await soilLowOf(plantId))!;
      expect(rule).toMatchObject({
        kind: "threshold",
        target: { type: "plant", plantId },
        metric: "soil_moisture",
        comparison: "below",
        threshold: { plantRange: "min" },
        hysteresis: 3,
        minDurationSeconds: 1800,
        createdBy: null,
      });
      expect((await api.rules.list.query({ siteId, plantId, builtIn: false })).items).toEqual([]);
      // Dry for 25 minutes: pending (the built-in waits 30); for 35: it fires.
      await hold(key, 15, 25, 60);
      expect(await openAlerts(plantId)).toEqual([]);
      await hold(key, 15, 10, 25);
      const [alert] = await openAlerts(plantId);
      expect(alert).toMatchObject({
        rule: `rule:${rule.id}`,
        ruleId: rule.id,
        subject: sensorId,
        sensorId,
        severity: "warning",
        title: "Ficus: soil moisture low",
        message: `soil moisture 15 %, below 30 % (${key})`,
        metric: "soil_moisture",
        triggeredValue: 15,
        bound: 30,
        direction: "below",
        firstValue: 15,
        lastValue: 15,
      });
      // While it is open, the alert follows the value; the triggering value stays.
      await post(server, token, [{ sensor: key, ts: clock.now().getTime() - 10 * MIN, value: 12 }]);
      expect((await api.alerts.get.query({ siteId, alertId: alert!.id })).lastValue).toBe(12);
      // Back past the band: resolved, the value that cleared it kept.
      await post(server, token, [{ sensor: key, ts: clock.now().getTime() - 5 * MIN, value: 41 }]);
      expect(await api.alerts.get.query({ siteId, alertId: alert!.id })).toMatchObject({ status: "resolved", triggeredValue: 15, firstValue: 15, lastValue: 41 });
      // The list filters by plant and by metric.
      const ids = async (filter: { plantId?: string; metric?: "soil_moisture" | "temperature" }) => (await api.alerts.list.query({ siteId, ...filter, limit: 100 })).items.map((a) => a.id);
      expect(await ids({ plantId, metric: "soil_moisture" })).toContain(alert!.id);
      expect(await ids({ metric: "temperature" })).not.toContain(alert!.id);
      const other = await api.plants.create.mutate({ siteId, name: "Empty pot" });
      expect(await ids({ plantId: other.id })).toEqual([]);
    });

    test("switched off for one plant, the built-in rule resolves its alert, stays off and raises nothing", async () => {
      const { plantId, key } = await dryablePlant("Croton");
      await hold(key, 10, 40, 50);
      expect(await openAlerts(plantId)).toHaveLength(1);
      const rule = (await soilLowOf(plantId))!;
      await api.rules.setEnabled.mutate({ siteId, ruleId: rule.id, enabled: false });
      expect(await openAlerts(plantId)).toEqual([]);
      await hold(key, 8, 40, 5);
      expect(await openAlerts(plantId)).toEqual([]);
      // Nothing else brings it back on: another change to the plant keeps it off.
      await api.plants.update.mutate({ siteId, plantId, location: "hall" });
      expect(await builtIns(plantId)).toContainEqual(["soil_moisture.low", false]);
      // It can be edited like any rule, but not made to watch something else, nor deleted.
      await api.rules.update.mutate({ siteId, ruleId: rule.id, hysteresis: 5 });
      expect(await failureOf(api.rules.update.mutate({ siteId, ruleId: rule.id, metric: "temperature" }))).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "metric" }] });
      expect(await failureOf(api.rules.delete.mutate({ siteId, ruleId: rule.id }))).toMatchObject({ code: "CONFLICT", issues: [{ path: "ruleId" }] });
    });

    test("switched off for the site, built-in rules go (alerts resolved) and raise nothing; switched on, they come back", async () => {
      const site = await gardenOwner(server, `builtin-site-${engine}@example.com`);
      const hub = await site.api.devices.provision.mutate({ siteId: site.siteId, name: "hub" });
      const plant = await site.api.plants.create.mutate({ siteId: site.siteId, name: "Orchid", thresholds: { soil_moisture: { min: 30 } } });
      await site.api.sensors.create.mutate({ siteId: site.siteId, deviceId: hub.device.id, key: "orchid", metric: "soil_moisture", plantId: plant.id });
      const dry = async (value: number, endAgo: number) => {
        const end = clock.now().getTime() - endAgo * MIN;
        await post(server, hub.token, Array.from({ length: 9 }, (_, i) => ({ sensor: "orchid", ts: end - (8 - i) * 5 * MIN, value })));
      };
      await dry(12, 60);
      const open = async () => (await site.api.alerts.list.query({ siteId: site.siteId, status: "active" })).items;
      expect(await open()).toHaveLength(1);
      expect(await site.api.rules.setBuiltIn.mutate({ siteId: site.siteId, enabled: false })).toEqual({ enabled: false });
      expect((await site.api.sites.get.query({ siteId: site.siteId })).builtInRules).toBe(false);
      expect((await site.api.rules.list.query({ siteId: site.siteId, builtIn: true })).items).toEqual([]);
      expect(await open()).toEqual([]);
      await dry(10, 10);
      expect(await open()).toEqual([]);
      // A sensor assigned meanwhile does not bring them back either.
      await site.api.sensors.create.mutate({ siteId: site.siteId, deviceId: hub.device.id, key: "orchid-temp", metric: "temperature", plantId: plant.id });
      expect((await site.api.rules.list.query({ siteId: site.siteId, builtIn: true })).items).toEqual([]);
      await site.api.rules.setBuiltIn.mutate({ siteId: site.siteId, enabled: true });
      expect((await site.api.rules.list.query({ siteId: site.siteId, builtIn: true })).items.map((r) => r.builtIn).sort()).toEqual(["battery", "offline", "soil_moisture.low"]);
    });

    test("a person's own rule for the same plant, metric and direction replaces the built-in one: one alert, not two; deleting it brings the built-in back", async () => {
      const { plantId, key } = await dryablePlant("Pilea");
      const own = await api.rules.create.mutate({
        siteId,
        name: "Pilea thirsty",
        kind: "threshold",
        target: { type: "plant", plantId },
        metric: "soil_moisture",
        comparison: "below",
        threshold: 25,
        actions: [{ type: "alert", severity: "critical", title: "{plant} thirsty: {value}" }],
      });
      expect(await builtIns(plantId)).toEqual([
        ["battery", true],
        ["offline", true],
      ]);
      await hold(key, 10, 40, 45);
      const alerts = await openAlerts(plantId);
      expect(alerts.map((a) => [a.ruleId, a.bound, a.triggeredValue])).toEqual([[own.id, 25, 10]]);
      await api.rules.delete.mutate({ siteId, ruleId: own.id });
      expect(await builtIns(plantId)).toContainEqual(["soil_moisture.low", true]);
    });

    test("built-in rules follow the plant's range: a moved bound judges the next reading by it, a bound removed removes its rule", async () => {
      const { plantId, key } = await dryablePlant("Begonia");
      await hold(key, 25, 40, 60);
      const [alert] = await openAlerts(plantId);
      expect(alert).toMatchObject({ bound: 30, triggeredValue: 25 });
      // The minimum moves to 20: 25 is now past 20 + 3 and clears.
      await api.plants.update.mutate({ siteId, plantId, thresholds: { soil_moisture: { min: 20 } } });
      await post(server, token, [{ sensor: key, ts: clock.now().getTime() - 55 * MIN, value: 25 }]);
      expect((await api.alerts.get.query({ siteId, alertId: alert!.id })).status).toBe("resolved");
      await hold(key, 15, 35, 15);
      expect((await openAlerts(plantId)).map((a) => [a.bound, a.triggeredValue])).toEqual([[20, 15]]);
      // No species and no override left: no bound, no built-in rule (its alert resolved).
      await api.plants.update.mutate({ siteId, plantId, thresholds: { soil_moisture: { min: null } } });
      expect(await builtIns(plantId)).toEqual([
        ["battery", true],
        ["offline", true],
      ]);
      expect(await openAlerts(plantId)).toEqual([]);
      // A maximum set later adds the high rule.
      await api.plants.update.mutate({ siteId, plantId, thresholds: { soil_moisture: { max: 80 } } });
      expect(await builtIns(plantId)).toContainEqual(["soil_moisture.high", true]);
    });

    test("unassigning the last sensor, or archiving the plant, removes its built-in rules; restoring brings them back", async () => {
      const { plantId, sensorId } = await dryablePlant("Dracaena");
      await api.plants.archive.mutate({ siteId, plantId });
      expect(await builtIns(plantId)).toEqual([]);
      await api.plants.restore.mutate({ siteId, plantId });
      expect((await builtIns(plantId)).map((r) => r[0])).toEqual(["battery", "offline", "soil_moisture.low"]);
      await api.sensors.unassign.mutate({ siteId, sensorId });
      expect(await builtIns(plantId)).toEqual([]);
    });

    test("two servers changing one plant at once create each built-in rule once, and never beside a person's rule", async () => {
      const peer = await server.peer();
      try {
        const email = `builtin-${engine}@example.com`;
        const { token: peerToken } = await peer.client().auth.login.mutate({ email, password: PASSWORD, client: "app" });
        const peerApi = peer.client(peerToken!);
        for (let round = 0; round < 4; round++) {
          const plant = await api.plants.create.mutate({ siteId, name: `Race ${round}`, thresholds: { soil_moisture: { min: 30 }, temperature: { min: 10, max: 30 } } });
          const soil = await api.sensors.create.mutate({ siteId, deviceId, key: `race-soil-${round}`, metric: "soil_moisture" });
          const temp = await api.sensors.create.mutate({ siteId, deviceId, key: `race-temp-${round}`, metric: "temperature" });
          await Promise.all([
            api.sensors.assign.mutate({ siteId, sensorId: temp.id, plantId: plant.id }),
            peerApi.sensors.assign.mutate({ siteId, sensorId: soil.id, plantId: plant.id }),
            peerApi.rules.create.mutate({
              siteId,
              name: "Own dry rule",
              kind: "threshold",
              target: { type: "plant", plantId: plant.id },
              metric: "soil_moisture",
              comparison: "below",
              threshold: { plantRange: "min" },
              actions: [{ type: "alert", severity: "warning", title: "dry" }],
            }),
          ]);
          const rows = await server.stores.db
            .select({ builtIn: automationRules.builtIn })
            .from(automationRules)
            .where(and(eq(automationRules.plantId, plant.id), isNotNull(automationRules.builtIn)));
          expect(rows.map((r) => r.builtIn).sort()).toEqual(["battery", "offline", "temperature.high", "temperature.low"]);
        }
      } finally {
        await peer.close();
      }
    });

    test("light: the daily light integral of each local day against the species' range, judged once a day; two dark days in a row alert", async () => {
      const site = await gardenOwner(server, `builtin-light-${engine}@example.com`, "Europe/Berlin");
      const hub = await site.api.devices.provision.mutate({ siteId: site.siteId, name: "window sill" });
      const [basil] = (await site.api.species.search.query({ query: "ocimum basilicum" })).items;
      const dli = basil!.care.dli;
      const plant = await site.api.plants.create.mutate({ siteId: site.siteId, name: "Basil", speciesId: basil!.id });
      const lux = await site.api.sensors.create.mutate({ siteId: site.siteId, deviceId: hub.device.id, key: "lux", metric: "light", plantId: plant.id });
      const rules = (await site.api.rules.list.query({ siteId: site.siteId, plantId: plant.id, builtIn: true })).items;
      const dark = rules.find((r) => r.builtIn === "light.dli_low")!;
      expect(dark).toMatchObject({ kind: "daily_light", metric: "light", comparison: "below", threshold: { plantRange: "min" }, minDurationSeconds: 72_000 });
      expect(rules.map((r) => r.builtIn).sort()).toEqual(["battery", "light.dli_high", "light.dli_low", "offline"]);
      // The two whole local days before today, at 500 lux every hour: 500 × 3600 × 24 × 0.0185 / 10⁶ ≈ 0.8 mol/m²/d.
      const today = startOfLocalDay(clock.now(), "Europe/Berlin").getTime();
      const yesterday = startOfLocalDay(new Date(today - 12 * 3_600_000), "Europe/Berlin").getTime();
      const before = startOfLocalDay(new Date(yesterday - 12 * 3_600_000), "Europe/Berlin").getTime();
      const readings = [];
      for (let t = before + 30 * MIN; t < today; t += 60 * MIN) readings.push({ sensor: "lux", ts: t, value: 500 });
      await post(server, hub.token, readings);
      const dliOf = (start: number, end: number) => (500 * ((end - start) / 1000) * 0.0185) / 1e6;
      // Just after the first day: pending (one dark day is weather).
      expect((await server.automation.tick(new Date(yesterday + 30 * MIN))).errors).toEqual([]);
      expect((await site.api.rules.get.query({ siteId: site.siteId, ruleId: dark.id })).states).toMatchObject([{ subject: plant.id, status: "pending" }]);
      expect((await site.api.alerts.list.query({ siteId: site.siteId, status: "active" })).items.filter((a) => a.metric === "light")).toEqual([]);
      // After the second: it fires, once, however often the tick runs that day.
      await server.automation.tick(clock.now());
      await server.automation.tick(clock.now());
      const light = (await site.api.alerts.list.query({ siteId: site.siteId, status: "active" })).items.filter((a) => a.metric === "light");
      expect(light).toHaveLength(1);
      expect(light[0]).toMatchObject({ ruleId: dark.id, subject: plant.id, bound: dli.min, direction: "below", title: "Basil: too little light" });
      expect(light[0]!.triggeredValue).toBeCloseTo(dliOf(yesterday, today), 6);
      expect((await site.api.rules.get.query({ siteId: site.siteId, ruleId: dark.id })).states).toMatchObject([{ status: "firing", firings: 1 }]);
      // The plant status names the same problem, since the first dark day.
      const [status] = (await site.api.plants.status.query({ siteId: site.siteId, plantId: plant.id })).items;
      expect(status!.problems).toHaveLength(1);
      expect(status!.problems[0]).toMatchObject({ metric: "light", sensorId: lux.id, bound: dli.min, direction: "below", source: "species", since: new Date(before) });
      expect(status!.problems[0]!.value).toBeCloseTo(dliOf(yesterday, today), 6);
    });
  });
}
