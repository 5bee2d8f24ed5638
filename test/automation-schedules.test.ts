import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testClock } from "./support/clock";
import { gardenOwner, logOf, signIn, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";


/** Local wall-clock time of an instant in Berlin, "HH:MM", by the platform's time-zone data. */
const berlinTime = (d: Date) => new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);

for (const engine of postgresEngines) {
  describe(`automation schedules on ${engine}`, () => {
    const clock = testClock(new Date("2026-03-26T12:00:00Z"));
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let deviceId: string;
    let lampId: string;

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      ({ api, siteId } = await gardenOwner(server, `sched-${engine}@example.com`, "Europe/Berlin"));
      deviceId = (await api.devices.provision.mutate({ siteId, name: "greenhouse controller" })).device.id;
      lampId = (await api.actuators.create.mutate({ siteId, deviceId, key: "lamp1", kind: "lamp" })).id;
    });
    afterAll(() => server.close());

    const at = async (iso: string) => {
      clock.set(new Date(iso));
      api = await signIn(server, `sched-${engine}@example.com`);
    };
    const lampCommands = async () => (await api.commands.list.query({ siteId, actuatorId: lampId, limit: 100 })).items;

    test("a daily lamp schedule keeps 07:00 local time across the spring DST change, and runs once per occurrence", async () => {
      await at("2026-03-26T12:00:00Z");
      const schedule = await api.schedules.create.mutate({
        siteId,
        name: "Lamp on",
        startsAt: new Date("2026-03-27T06:00:00Z"), // 07:00 CET
        rrule: "FREQ=DAILY",
        actions: [{ type: "command", actuatorId: lampId, command: { action: "switch", state: "on", minutes: 720 } }],
      });
      // Berlin moves to CEST (UTC+2) on 29 March 2026: 07:00 is then 05:00 UTC.
      const expected = ["2026-03-27T06:00:00.000Z", "2026-03-28T06:00:00.000Z", "2026-03-29T05:00:00.000Z", "2026-03-30T05:00:00.000Z"];
      const upcoming = await api.schedules.upcoming.query({ siteId, scheduleId: schedule.id, from: clock.now(), count: 4 });
      expect(upcoming.map((d) => d.toISOString())).toEqual(expected);
      expect(upcoming.map(berlinTime)).toEqual(["07:00", "07:00", "07:00", "07:00"]);
      const before = (await lampCommands()).length;
      for (const [i, iso] of expected.entries()) {
        const at = new Date(iso).getTime();
        clock.set(new Date(at - 1000));
        await server.automation.tick(clock.now());
        expect((await lampCommands()).length).toBe(before + i);
        clock.set(new Date(at + 10_000));
        await server.automation.tick(clock.now());
        await server.automation.tick(clock.now());
        expect((await lampCommands()).length).toBe(before + i + 1);
      }
      expect((await lampCommands())[0]).toMatchObject({ action: "switch", state: "on", durationSeconds: 43_200, createdBy: null });
      const current = await api.schedules.get.query({ siteId, scheduleId: schedule.id });
      expect(current.nextRunAt?.toISOString()).toBe("2026-03-31T05:00:00.000Z");
      expect(current.lastRunAt?.getTime()).toBe(clock.now().getTime());
      await api.schedules.setEnabled.mutate({ siteId, scheduleId: schedule.id, enabled: false });
    });

    test("autumn: 08:00 local before and after the clocks go back", async () => {
      await at("2026-10-23T12:00:00Z");
      const schedule = await api.schedules.create.mutate({
        siteId,
        name: "Morning check",
        startsAt: new Date("2026-10-24T06:00:00Z"), // 08:00 CEST
        rrule: "FREQ=DAILY",
        actions: [{ type: "notify", severity: "info", title: "Good morning from {rule}" }],
      });
      // Berlin returns to CET (UTC+1) on 25 October 2026.
      const expected = ["2026-10-24T06:00:00.000Z", "2026-10-25T07:00:00.000Z", "2026-10-26T07:00:00.000Z"];
      const upcoming = await api.schedules.upcoming.query({ siteId, scheduleId: schedule.id, from: clock.now(), count: 3 });
      expect(upcoming.map((d) => d.toISOString())).toEqual(expected);
      expect(upcoming.map(berlinTime)).toEqual(["08:00", "08:00", "08:00"]);
      const sent = server.notifications.length;
      for (const iso of expected) {
        clock.set(new Date(new Date(iso).getTime() + 30_000));
        await server.automation.tick(clock.now());
      }
      expect(server.notifications.slice(sent).map((n) => n.title)).toEqual(Array(3).fill("Good morning from Morning check"));
      const fired = (await logOf(api, siteId, { scheduleId: schedule.id })).filter((e) => e.event === "fired");
      expect(fired.map((e) => (e.details as { occurrence: string }).occurrence)).toEqual(expected);
      await api.schedules.delete.mutate({ siteId, scheduleId: schedule.id });
    });

    test("runs missed while the server was down: skip drops them, catch_up runs once", async () => {
      await at("2026-05-04T06:00:00Z");
      const make = (name: string, missedRunPolicy: "skip" | "catch_up") =>
        api.schedules.create.mutate({
          siteId,
          name,
          startsAt: new Date("2026-05-04T07:00:00Z"), // 09:00 CEST
          rrule: "FREQ=DAILY",
          missedRunPolicy,
          actions: [{ type: "notify", severity: "info", title: name }],
        });
      const skip = await make("Skipper", "skip");
      const catchUp = await make("Catcher", "catch_up");
      clock.set(new Date("2026-05-04T07:00:05Z"));
      await server.automation.tick(clock.now());
      const sent = server.notifications.length;
      // Down from after that run until 11:00 UTC three days later: the runs of 5, 6 and 7 May were missed.
      clock.set(new Date("2026-05-07T11:00:00Z"));
      const report = await server.automation.tick(clock.now());
      expect(report.errors).toEqual([]);
      expect(server.notifications.slice(sent).map((n) => n.title)).toEqual(["Catcher"]);
      const missedOf = async (id: string) =>
        (await logOf(api, siteId, { scheduleId: id })).filter((e) => e.event === "skipped").map((e) => (e.details as { missed: string[] }).missed);
      const missedDays = ["2026-05-05T07:00:00.000Z", "2026-05-06T07:00:00.000Z", "2026-05-07T07:00:00.000Z"];
      expect(await missedOf(skip.id)).toEqual([missedDays]);
      expect(await missedOf(catchUp.id)).toEqual([missedDays]);
      for (const id of [skip.id, catchUp.id]) {
        expect((await api.schedules.get.query({ siteId, scheduleId: id })).nextRunAt?.toISOString()).toBe("2026-05-08T07:00:00.000Z");
      }
      // Back to normal: the next run is on time for both.
      clock.set(new Date("2026-05-08T07:00:30Z"));
      await server.automation.tick(clock.now());
      expect(server.notifications.slice(sent).map((n) => n.title).sort()).toEqual(["Catcher", "Catcher", "Skipper"]);
      await api.schedules.delete.mutate({ siteId, scheduleId: skip.id });
      await api.schedules.delete.mutate({ siteId, scheduleId: catchUp.id });
    });

    test("two engines on one database run a due schedule once; scheduled watering goes through the safety envelope", async () => {
      await at("2026-06-07T12:00:00Z"); // a Sunday
      const plantId = (await api.plants.create.mutate({ siteId, name: "Lemon tree" })).id;
      const pump = await api.actuators.create.mutate({ siteId, deviceId, key: "pump1", kind: "pump", flowRateMlPerSecond: 10, maxRunSeconds: 60, plantId });
      const schedule = await api.schedules.create.mutate({
        siteId,
        name: "Water on Mondays",
        plantId,
        startsAt: new Date("2026-06-08T06:00:00Z"), // Monday 08:00 CEST
        rrule: "FREQ=WEEKLY;BYDAY=MO",
        actions: [
          { type: "command", actuatorId: pump.id, command: { action: "pump", ml: 200 } },
          { type: "notify", severity: "info", title: "Watered {plant}" },
        ],
      });
      const other = server.extraEngine();
      const sent = server.notifications.length;
      clock.set(new Date("2026-06-08T06:00:20Z"));
      const reports = await Promise.all([server.automation.tick(clock.now()), other.tick(clock.now()), other.tick(clock.now()), server.automation.tick(clock.now())]);
      expect(reports.every((r) => r.errors.length === 0)).toBe(true);
      const pumped = (await api.commands.list.query({ siteId, actuatorId: pump.id })).items;
      expect(pumped).toHaveLength(1);
      expect(pumped[0]).toMatchObject({ volumeMl: 200, durationSeconds: 20, maxRunSeconds: 60 });
      expect(server.notifications.slice(sent)).toEqual([{ siteId, severity: "info", title: "Watered Lemon tree", message: null, plantId, source: `schedule:${schedule.id}` }]);
      expect((await logOf(api, siteId, { scheduleId: schedule.id })).filter((e) => e.event === "fired")).toHaveLength(1);
      const [entry] = (await api.waterings.list.query({ siteId, plantId })).items;
      expect(entry).toMatchObject({ source: "scheduled", commandId: pumped[0]!.id, volumeMl: 200 });
      // A second run the same day would break the cooldown: refused and logged.
      await api.schedules.update.mutate({ siteId, scheduleId: schedule.id, startsAt: new Date("2026-06-08T07:00:00Z"), rrule: "FREQ=DAILY" });
      clock.set(new Date("2026-06-08T07:00:10Z"));
      await server.automation.tick(clock.now());
      expect((await api.commands.list.query({ siteId, actuatorId: pump.id })).items).toHaveLength(1);
      const skipped = (await logOf(api, siteId, { scheduleId: schedule.id })).filter((e) => e.event === "skipped");
      expect(skipped.map((e) => e.message)).toEqual([expect.stringContaining("watering skipped: cooldown")]);
    });

    test("schedules are validated: RRULE, actions and plants of the site", async () => {
      const bad = await failureOf(
        api.schedules.create.mutate({ siteId, name: "x", startsAt: clock.now(), rrule: "FREQ=SECONDLY", actions: [{ type: "notify", severity: "info", title: "x" }] }),
      );
      expect(bad).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "rrule" }] });
      const pumpAsLamp = await failureOf(
        api.schedules.create.mutate({ siteId, name: "x", startsAt: clock.now(), rrule: "FREQ=DAILY", actions: [{ type: "command", actuatorId: lampId, command: { action: "pump", seconds: 5 } }] }),
      );
      expect(pumpAsLamp).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "actions.0.command.action" }] });
      const noActions = await failureOf(api.schedules.create.mutate({ siteId, name: "x", startsAt: clock.now(), rrule: "FREQ=DAILY", actions: [] }));
      expect(noActions.issues).toEqual([{ path: "actions", message: "give at least one action" }]);
    });
  });
}
