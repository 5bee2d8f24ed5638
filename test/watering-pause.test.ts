import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testClock } from "./support/clock";
import { ack, fetchCommands, gardenOwner, logOf, post, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

/**
 * People pause automatic watering of a plant (with a reason, and optionally until when: it then
 * resumes by itself); the engine's own pause after "moisture did not rise" shows as the engine's.
 * Both show in wateringSafety.get and in the plant status.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;

for (const engine of postgresEngines) {
  describe(`pausing automatic watering on ${engine}`, () => {
    const clock = testClock(new Date(Math.floor(Date.now() / MIN) * MIN));
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let userId: string;
    let plantId: string;
    let pumpId: string;
    let ruleId: string;

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      ({ api, siteId } = await gardenOwner(server, `pause-${engine}@example.com`));
      userId = (await api.auth.me.query()).user.id;
      const provisioned = await api.devices.provision.mutate({ siteId, name: "irrigation" });
      token = provisioned.token;
      plantId = (await api.plants.create.mutate({ siteId, name: "Tomato" })).id;
      await api.sensors.create.mutate({ siteId, deviceId: provisioned.device.id, key: "soil", metric: "soil_moisture", plantId });
      pumpId = (await api.actuators.create.mutate({ siteId, deviceId: provisioned.device.id, key: "pump", kind: "pump", flowRateMlPerSecond: 5, maxRunSeconds: 30, plantId })).id;
      await api.wateringSafety.update.mutate({ siteId, plantId, cooldownMinutes: 0, dailyVolumeCapMl: null });
      ruleId = (
        await api.rules.create.mutate({
          siteId,
          name: "Tomato dry",
          kind: "threshold",
          target: { type: "plant", plantId },
          metric: "soil_moisture",
          comparison: "below",
          threshold: 30,
          actions: [{ type: "command", actuatorId: pumpId, command: { action: "pump", ml: 100 } }],
        })
      ).id;
    });
    afterAll(() => server.close());

    const pumpCommands = async () => (await api.commands.list.query({ siteId, actuatorId: pumpId, limit: 100 })).items;
    const status = async () => (await api.plants.status.query({ siteId, plantId })).items[0]!;
    /** Dry, then wet: the rule fires on the dry reading (and clears on the wet one, ready to fire again). */
    const dryThenWet = async () => {
      const t = clock.now().getTime();
      await post(server, token, [{ sensor: "soil", ts: t - 2 * MIN, value: 20 }]);
      await post(server, token, [{ sensor: "soil", ts: t - MIN, value: 45 }]);
    };

    test("a person pauses with a reason and an end: automatic watering is refused, and the pause shows who, why and until when", async () => {
      const until = new Date(clock.now().getTime() + 2 * HOUR);
      const paused = await api.wateringSafety.pause.mutate({ siteId, plantId, reason: "on holiday, the neighbour waters", until });
      expect(paused).toMatchObject({ autoWateringPaused: true, pausedBy: "user", pausedByUserId: userId, pausedReason: "on holiday, the neighbour waters", pausedAt: clock.now(), pausedUntil: until });
      expect((await status()).wateringPaused).toEqual({ by: "user", reason: "on holiday, the neighbour waters", since: clock.now(), until });
      await dryThenWet();
      expect(await pumpCommands()).toEqual([]);
      const skipped = (await logOf(api, siteId, { ruleId })).filter((e) => e.event === "skipped");
      expect(skipped.map((e) => e.message)).toEqual(["watering skipped: automatic watering is paused: on holiday, the neighbour waters"]);
      expect((await logOf(api, siteId, { plantId })).some((e) => e.event === "paused" && e.message.includes("on holiday"))).toBe(true);
    });

    test("bad input names the field and changes nothing", async () => {
      const before = await api.wateringSafety.get.query({ siteId, plantId });
      expect(await failureOf(api.wateringSafety.pause.mutate({ siteId, plantId, reason: "x", until: new Date(clock.now().getTime() - MIN) }))).toMatchObject({
        code: "BAD_REQUEST",
        issues: [{ path: "until", message: "must be in the future" }],
      });
      expect(await failureOf(api.wateringSafety.pause.mutate({ siteId, plantId, reason: "  " }))).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "reason" }] });
      expect(await api.wateringSafety.get.query({ siteId, plantId })).toEqual(before);
    });

    test("the pause ends by itself at its end: at once for every reader, logged by the next tick, and watering runs again", async () => {
      clock.advance(2 * HOUR + MIN);
      expect(await api.wateringSafety.get.query({ siteId, plantId })).toMatchObject({ autoWateringPaused: false, pausedBy: null, pausedReason: null, pausedUntil: null });
      expect((await status()).wateringPaused).toBeNull();
      await server.automation.tick(clock.now());
      const resumed = (await logOf(api, siteId, { plantId })).filter((e) => e.event === "resumed");
      expect(resumed.map((e) => e.message)).toEqual(["automatic watering resumed: the pause ran out"]);
      // A second tick (or another server's) lifts nothing more.
      await server.automation.tick(clock.now());
      expect((await logOf(api, siteId, { plantId })).filter((e) => e.event === "resumed")).toHaveLength(1);
      await dryThenWet();
      expect(await pumpCommands()).toHaveLength(1);
    });

    test("the engine's pause after moisture did not rise shows as the engine's, with its reason, until someone resumes", async () => {
      for (const c of await fetchCommands(server, token)) await ack(server, token, c.id, "succeeded");
      // No rise within the rise window (30 minutes by default).
      clock.advance(31 * MIN);
      await post(server, token, [{ sensor: "soil", ts: clock.now().getTime() - MIN, value: 20 }]);
      await server.automation.tick(clock.now());
      const safety = await api.wateringSafety.get.query({ siteId, plantId });
      expect(safety).toMatchObject({ autoWateringPaused: true, pausedBy: "engine", pausedByUserId: null, pausedUntil: null });
      expect(safety.pausedReason).toStartWith("soil moisture did not rise");
      expect((await status()).wateringPaused).toEqual({ by: "engine", reason: safety.pausedReason!, since: clock.now(), until: null });
      await api.wateringSafety.resume.mutate({ siteId, plantId });
      expect((await status()).wateringPaused).toBeNull();
    });
  });
}
