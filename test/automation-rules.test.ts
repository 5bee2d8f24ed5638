import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AutomationEngine } from "../server/pipelines/automation/engine";
import { createLogger } from "../server/platform/logger";
import { testClock } from "./support/clock";
import { gardenOwner, logOf, post, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

const MIN = 60_000;

for (const engine of postgresEngines) {
  describe(`automation rules on ${engine}`, () => {
    // Near the real time: ClickHouse applies the raw TTL by its own clock.
    const clock = testClock(new Date(Math.floor(Date.now() / MIN) * MIN));
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let deviceId: string;
    let plantId: string;
    const sensorIds: Record<string, string> = {};

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      ({ api, siteId } = await gardenOwner(server, `rules-${engine}@example.com`));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "balcony hub" });
      token = provisioned.token;
      deviceId = provisioned.device.id;
      plantId = (await api.plants.create.mutate({ siteId, name: "Basil", thresholds: { soil_moisture: { min: 35 } } })).id;
      for (const [key, metric] of [
        ["soil1", "soil_moisture"],
        ["noisy", "soil_moisture"],
        ["temp", "temperature"],
        ["hum", "humidity"],
        ["bat", "battery"],
      ] as const) {
        sensorIds[key] = (await api.sensors.create.mutate({ siteId, deviceId, key, metric, ...(key === "soil1" ? { plantId } : {}) })).id;
      }
    });
    afterAll(() => server.close());

    test("hysteresis: a noisy signal around the threshold fires once per real excursion, not on every crossing", async () => {
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Noisy dry",
        kind: "threshold",
        target: { type: "sensor", sensorId: sensorIds.noisy! },
        comparison: "below",
        threshold: 30,
        hysteresis: 5,
        actions: [{ type: "alert", severity: "warning", title: "{sensor} at {value}" }],
      });
      // A slow wave between 22 and 38 with ±3 of deterministic noise: it crosses 30 many times.
      let seed = 7;
      const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 6 - 3;
      const start = clock.now().getTime() - 200 * MIN;
      const values = Array.from({ length: 160 }, (_, i) => Math.round((30 + 8 * Math.sin(i / 12) + noise()) * 10) / 10);
      for (let i = 0; i < values.length; i += 8) {
        await post(server, token, values.slice(i, i + 8).map((value, j) => ({ sensor: "noisy", ts: start + (i + j) * MIN, value })));
      }
      // Expected independently: fire below 30; clear only above 35.
      const expected: string[] = [];
      let firing = false;
      let naiveFlips = 0;
      let below = false;
      for (const v of values) {
        if (!firing && v < 30) (firing = true), expected.push("fired");
        else if (firing && v > 35) (firing = false), expected.push("cleared");
        if (v < 30 !== below) (below = v < 30), naiveFlips++;
      }
      expect(naiveFlips).toBeGreaterThan(expected.length * 2); // without the band it would flap
      const events = (await logOf(api, siteId, { ruleId: rule.id })).filter((e) => e.event === "fired" || e.event === "cleared");
      expect(events.map((e) => e.event)).toEqual(expected as ("fired" | "cleared")[]);
      const alerts = (await api.alerts.list.query({ siteId, limit: 100 })).items.filter((a) => a.rule === `rule:${rule.id}`);
      expect(alerts).toHaveLength(expected.filter((e) => e === "fired").length);
      expect(alerts.filter((a) => a.status !== "resolved")).toHaveLength(firing ? 1 : 0);
    });

    test("minimum duration: the condition must hold that long, by reading time, before the rule fires", async () => {
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Hot",
        kind: "threshold",
        target: { type: "sensor", sensorId: sensorIds.temp! },
        comparison: "above",
        threshold: 30,
        minDurationSeconds: 600,
        actions: [{ type: "alert", severity: "warning", title: "hot: {value} {unit}" }],
      });
      const start = clock.now().getTime() - 100 * MIN;
      // 5 minutes hot, one cool reading (resets), then 15 minutes hot.
      const series = [31, 31, 31, 31, 31, 29, ...Array(15).fill(32)];
      for (const [i, value] of series.entries()) await post(server, token, [{ sensor: "temp", ts: start + i * MIN, value }]);
      const firstOfRun = series.findIndex((v, i) => v > 30 && series.slice(i).every((w) => w > 30));
      const expectedAt = start + firstOfRun * MIN + 10 * MIN;
      const fired = (await logOf(api, siteId, { ruleId: rule.id })).filter((e) => e.event === "fired");
      expect(fired).toHaveLength(1);
      expect((fired[0]!.details as { at: number }).at).toBe(expectedAt);
      const [alert] = (await api.alerts.list.query({ siteId, status: "active" })).items.filter((a) => a.rule === `rule:${rule.id}`);
      expect(alert).toMatchObject({ title: "hot: 32 °C", sensorId: sensorIds.temp });
    });

    test("a pending condition survives a restart of the engine: its start is kept in Postgres", async () => {
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Hot for a while",
        kind: "threshold",
        target: { type: "sensor", sensorId: sensorIds.temp! },
        comparison: "above",
        threshold: 40,
        minDurationSeconds: 300,
        actions: [{ type: "notify", severity: "info", title: "hot" }],
      });
      const t = clock.now().getTime() - 20 * MIN;
      await post(server, token, [{ sensor: "temp", ts: t, value: 41 }, { sensor: "temp", ts: t + 2 * MIN, value: 42 }]);
      expect((await api.rules.get.query({ siteId, ruleId: rule.id })).states).toMatchObject([{ status: "pending", pendingSince: new Date(t) }]);
      await server.automation.stop();
      const restarted = new AutomationEngine({
        db: () => server.stores.db,
        clickhouse: () => server.stores.clickhouse,
        directory: server.directory,
        events: server.events,
        log: createLogger("silent"),
        now: clock.now,
        notify: async () => {},
        tickIntervalMs: 0,
      });
      restarted.start();
      // Ingest hands its batches to the restarted engine now.
      await server.ingest.attach((batch) => restarted.evaluate(batch));
      try {
        await post(server, token, [{ sensor: "temp", ts: t + 4 * MIN, value: 42 }], false);
        await server.settled();
        expect((await logOf(api, siteId, { ruleId: rule.id })).filter((e) => e.event === "fired")).toHaveLength(0);
        await post(server, token, [{ sensor: "temp", ts: t + 5 * MIN, value: 42 }], false);
        await server.settled();
        const fired = (await logOf(api, siteId, { ruleId: rule.id })).filter((e) => e.event === "fired");
        expect(fired.map((e) => (e.details as { at: number }).at)).toEqual([t + 5 * MIN]);
      } finally {
        await restarted.stop();
        server.automation.start();
        await server.ingest.attach((batch) => server.automation.evaluate(batch));
      }
    });

    test("a threshold from the plant's range, templates rendered, state survives in Postgres", async () => {
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Basil dry",
        kind: "threshold",
        target: { type: "plant", plantId },
        metric: "soil_moisture",
        comparison: "below",
        threshold: { plantRange: "min" },
        hysteresis: 3,
        actions: [
          { type: "alert", severity: "warning", title: "{plant} is dry at {value}{unit} (min {threshold}) {unknown}" },
          { type: "notify", severity: "warning", title: "{plant} needs water", message: "{sensor}: {value}" },
        ],
      });
      expect(rule.threshold).toEqual({ plantRange: "min" });
      const t = clock.now().getTime() - 30 * MIN;
      await post(server, token, [{ sensor: "soil1", ts: t, value: 36 }, { sensor: "soil1", ts: t + MIN, value: 33 }]);
      const [alert] = (await api.alerts.list.query({ siteId, plantId, status: "active" })).items;
      expect(alert!.title).toBe("Basil is dry at 33% (min 35) {unknown}");
      expect(server.notifications.at(-1)).toEqual({ siteId, severity: "warning", title: "Basil needs water", message: "soil1: 33", plantId, source: `rule:${rule.id}` });
      const state = (await api.rules.get.query({ siteId, ruleId: rule.id })).states;
      expect(state).toMatchObject([{ subject: sensorIds.soil1, status: "firing", firings: 1 }]);
      // 37 is above 35 but inside the band (35 + 3): still firing. 38.5 clears and resolves.
      await post(server, token, [{ sensor: "soil1", ts: t + 2 * MIN, value: 37 }]);
      expect((await api.alerts.get.query({ siteId, alertId: alert!.id })).status).toBe("active");
      await post(server, token, [{ sensor: "soil1", ts: t + 3 * MIN, value: 38.5 }]);
      expect((await api.alerts.get.query({ siteId, alertId: alert!.id })).status).toBe("resolved");
      // A late reading older than what was judged does not rewrite history.
      await post(server, token, [{ sensor: "soil1", ts: t + 30_000, value: 10 }]);
      expect((await api.rules.get.query({ siteId, ruleId: rule.id })).states[0]!.status).toBe("clear");
      // The plant log shows what happened to the plant.
      const plantLog = await logOf(api, siteId, { plantId });
      expect(plantLog.map((e) => e.event)).toEqual(expect.arrayContaining(["fired", "action", "cleared"]));
    });

    test("disabling a firing rule resolves its alert; a changed condition is judged afresh", async () => {
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Cold",
        kind: "threshold",
        target: { type: "sensor", sensorId: sensorIds.temp! },
        comparison: "below",
        threshold: 10,
        actions: [{ type: "alert", severity: "info", title: "cold" }],
      });
      const t = clock.now().getTime() - 9 * MIN;
      await post(server, token, [{ sensor: "temp", ts: t, value: 5 }]);
      const open = async () => (await api.alerts.list.query({ siteId, status: "active" })).items.filter((a) => a.rule === `rule:${rule.id}`);
      expect(await open()).toHaveLength(1);
      await api.rules.setEnabled.mutate({ siteId, ruleId: rule.id, enabled: false });
      expect(await open()).toHaveLength(0);
      await post(server, token, [{ sensor: "temp", ts: t + MIN, value: 4 }]);
      expect(await open()).toHaveLength(0);
      // Enabled again with a lower threshold: 4 is not below 3, and 2 fires anew.
      await api.rules.update.mutate({ siteId, ruleId: rule.id, enabled: true, threshold: 3 });
      expect((await api.rules.get.query({ siteId, ruleId: rule.id })).states).toEqual([]);
      await post(server, token, [{ sensor: "temp", ts: t + 2 * MIN, value: 4 }]);
      expect(await open()).toHaveLength(0);
      await post(server, token, [{ sensor: "temp", ts: t + 3 * MIN, value: 2 }]);
      expect(await open()).toHaveLength(1);
      await api.rules.delete.mutate({ siteId, ruleId: rule.id });
      expect(await open()).toHaveLength(0);
      expect((await api.rules.list.query({ siteId })).items.map((r) => r.id)).not.toContain(rule.id);
    });

    test("ingest-triggered evaluation is measured: lag from commit to evaluation, on /healthz", async () => {
      const stats = server.automation.stats();
      expect(stats.evaluatedBatches).toBeGreaterThan(10);
      expect(stats.maxLagMs).toBeGreaterThanOrEqual(0);
      const health = (await (await fetch(`${server.url}/healthz`)).json()) as { automation: { evaluatedBatches: number } };
      expect(health.automation.evaluatedBatches).toBe(server.automation.stats().evaluatedBatches);
    });

    test("aggregate: the average of the last 30 minutes from ClickHouse, judged on a tick", async () => {
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Humid on average",
        kind: "aggregate",
        target: { type: "sensor", sensorId: sensorIds.hum! },
        comparison: "above",
        threshold: 80,
        aggregate: "avg",
        windowMinutes: 30,
        actions: [{ type: "alert", severity: "info", title: "avg {value}" }],
      });
      const now = clock.now().getTime();
      // One spike above 80 is not enough for the average; the old reading is outside the window.
      const readings = [
        { ts: now - 40 * MIN, value: 99 },
        { ts: now - 20 * MIN, value: 70 },
        { ts: now - 10 * MIN, value: 90 },
        { ts: now - 5 * MIN, value: 76 },
      ];
      await post(server, token, readings.map((r) => ({ sensor: "hum", ...r })));
      const report = await server.automation.tick(clock.now());
      expect(report.errors).toEqual([]);
      expect((await logOf(api, siteId, { ruleId: rule.id })).filter((e) => e.event === "fired")).toHaveLength(0);
      await post(server, token, [{ sensor: "hum", ts: now - 2 * MIN, value: 95 }]);
      await server.automation.tick(clock.now());
      const inWindow = [...readings, { ts: now - 2 * MIN, value: 95 }].filter((r) => r.ts >= now - 30 * MIN).map((r) => r.value);
      const mean = inWindow.reduce((a, b) => a + b, 0) / inWindow.length;
      const fired = (await logOf(api, siteId, { ruleId: rule.id })).filter((e) => e.event === "fired");
      expect(fired).toHaveLength(1);
      expect((fired[0]!.details as { value: number }).value).toBeCloseTo(mean, 6);
    });

    test("offline: raised after k × the expected interval without a report, cleared when the device reports again", async () => {
      const other = await api.devices.provision.mutate({ siteId, name: "shed sensor" });
      await api.devices.update.mutate({ siteId, deviceId: other.device.id, expectedReportIntervalSeconds: 60 });
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Shed offline",
        kind: "offline",
        target: { type: "device", deviceId: other.device.id },
        staleFactor: 3,
        actions: [{ type: "alert", severity: "warning", title: "{device} silent for {value} s" }],
      });
      expect(rule.staleFactor).toBe(3);
      await post(server, other.token, [{ sensor: "t1", ts: clock.now().getTime(), value: 20 }]);
      await server.ingest.activity.flush();
      const reportedAt = clock.now().getTime();
      const active = async () => (await api.alerts.list.query({ siteId, status: "active" })).items.filter((a) => a.rule === `rule:${rule.id}`);
      clock.set(new Date(reportedAt + 170_000));
      await server.automation.tick(clock.now());
      expect(await active()).toHaveLength(0);
      clock.set(new Date(reportedAt + 181_000));
      await server.automation.tick(clock.now());
      expect((await active()).map((a) => a.title)).toEqual(["shed sensor silent for 181 s"]);
      // Still silent: the same alert, no second one.
      clock.advance(60_000);
      await server.automation.tick(clock.now());
      expect(await active()).toHaveLength(1);
      await post(server, other.token, [{ sensor: "t1", ts: clock.now().getTime(), value: 20 }]);
      expect(await active()).toHaveLength(0);
      // A tick before last-seen reaches Postgres (it is written every few seconds) does not raise it again.
      await server.automation.tick(clock.now());
      expect(await active()).toHaveLength(0);
      await server.ingest.activity.flush();
      await server.automation.tick(clock.now());
      expect(await active()).toHaveLength(0);
      const log = await logOf(api, siteId, { ruleId: rule.id });
      expect(log.filter((e) => e.event !== "action").map((e) => e.event)).toEqual(["fired", "cleared"]);
      expect(log.filter((e) => e.event === "action").map((e) => (e.details as { action: string }).action).sort()).toEqual(["alert", "resolve"]);
    });

    test("battery: a drain projected to empty the battery within N days warns; a slower horizon does not", async () => {
      const now = clock.now().getTime();
      const hour = 60 * MIN;
      // 48 hourly readings falling 0.5 % per hour from 60 %: 12 % a day.
      const points = Array.from({ length: 48 }, (_, i) => ({ ts: now - (47 - i) * hour - 30 * MIN, value: 60 - 0.5 * i }));
      await post(server, token, points.map((p) => ({ sensor: "bat", ...p })));
      const last = points.at(-1)!.value;
      const expectedDays = last / 12;
      const soon = await api.rules.create.mutate({
        siteId,
        name: "Battery within 3 days",
        kind: "battery",
        target: { type: "device", deviceId },
        batteryDays: Math.ceil(expectedDays) + 1,
        actions: [{ type: "alert", severity: "warning", title: "{device}: battery empty in {value} days" }],
      });
      const later = await api.rules.create.mutate({
        siteId,
        name: "Battery within a day",
        kind: "battery",
        target: { type: "sensor", sensorId: sensorIds.bat! },
        batteryDays: 1,
        actions: [{ type: "alert", severity: "warning", title: "battery" }],
      });
      await server.automation.tick(clock.now());
      const fired = (await logOf(api, siteId, { ruleId: soon.id })).filter((e) => e.event === "fired");
      expect(fired).toHaveLength(1);
      expect((fired[0]!.details as { value: number }).value).toBeCloseTo(expectedDays, 1);
      expect((await logOf(api, siteId, { ruleId: later.id })).filter((e) => e.event === "fired")).toHaveLength(0);
    });

    test("rules are validated by kind, and ids of another site are not found", async () => {
      const noMetric = await failureOf(
        api.rules.create.mutate({ siteId, name: "x", kind: "threshold", target: { type: "plant", plantId }, comparison: "below", threshold: 3, actions: [{ type: "notify", severity: "info", title: "x" }] }),
      );
      expect(noMetric).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "metric" }] });
      const rangeOnSensor = await failureOf(
        api.rules.create.mutate({ siteId, name: "x", kind: "threshold", target: { type: "sensor", sensorId: sensorIds.temp! }, comparison: "below", threshold: { plantRange: "min" }, actions: [{ type: "notify", severity: "info", title: "x" }] }),
      );
      expect(rangeOnSensor.issues).toEqual([{ path: "threshold", message: "the plant's range needs a plant as target" }]);
      const barePlant = (await api.plants.create.mutate({ siteId, name: "No species" })).id;
      const noRange = await failureOf(
        api.rules.create.mutate({ siteId, name: "x", kind: "threshold", target: { type: "plant", plantId: barePlant }, metric: "soil_moisture", comparison: "below", threshold: { plantRange: "min" }, actions: [{ type: "notify", severity: "info", title: "x" }] }),
      );
      expect(noRange).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "threshold", message: "the plant has no soil_moisture min in force: set a threshold override on the plant or give a number" }] });
      const elsewhere = await gardenOwner(server, `rules-other-${engine}@example.com`);
      const foreignPlant = (await elsewhere.api.plants.create.mutate({ siteId: elsewhere.siteId, name: "Fern" })).id;
      const notFound = await failureOf(
        api.rules.create.mutate({ siteId, name: "x", kind: "offline", target: { type: "plant", plantId: foreignPlant }, actions: [{ type: "notify", severity: "info", title: "x" }] }),
      );
      expect(notFound).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "target.plantId" }] });
      const lamp = await elsewhere.api.actuators.create.mutate({
        siteId: elsewhere.siteId,
        deviceId: (await elsewhere.api.devices.provision.mutate({ siteId: elsewhere.siteId, name: "d" })).device.id,
        key: "lamp",
        kind: "lamp",
      });
      const foreignActuator = await failureOf(
        api.rules.create.mutate({
          siteId,
          name: "x",
          kind: "offline",
          target: { type: "device", deviceId },
          actions: [{ type: "command", actuatorId: lamp.id, command: { action: "switch", state: "on" } }],
        }),
      );
      expect(foreignActuator).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "actions.0.actuatorId" }] });
    });
  });
}
