import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Reading } from "./support/analytics";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";
import { postVisible } from "./support/visible";

/** A plant's care plan from its species and its own measurements, and the tasks it makes. */

const PASSWORD = "correct horse battery";
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
// Real time matters: ClickHouse applies the raw TTL against its own clock, so readings must be recent.
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE;

function every(sensor: string, from: number, to: number, step: number, valueOf: (ts: number) => number): Reading[] {
  const out: Reading[] = [];
  for (let ts = from; ts < to; ts += step) out.push({ sensor, ts, value: Math.round(valueOf(ts) * 1000) / 1000 });
  return out;
}

for (const engine of postgresEngines) {
  describe(`care plans on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    const clock = testClock(new Date(NOW));

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      const owner = await server.client().auth.register.mutate({ email: `care-plan-${engine}@example.com`, password: PASSWORD, displayName: "C", timezone: "Europe/Berlin", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
    });
    afterAll(() => server.close());

    test("the watering interval follows a faster measured drying rate; light, climate, feeding and repotting lines say what they rest on", async () => {
      const [monstera] = (await api.species.search.query({ query: "monstera deliciosa" })).items;
      const care = monstera!.care;
      const repottedAt = new Date(NOW - 300 * DAY);
      const plant = await api.plants.create.mutate({ siteId, name: "Monstera", speciesId: monstera!.id, potSizeCm: 35, repottedAt });
      const { token } = await api.devices.provision.mutate({ siteId, name: "monstera-probe" });

      // Dry at 25 % until watered to 60 % twenty hours ago, then drying 12 points a day: it reaches
      // the species' lower bound (30 %) 2.5 days after watering, far sooner than the 7-day interval.
      const watered = Math.floor((NOW - 20 * HOUR) / (10 * MINUTE)) * 10 * MINUTE;
      const soil = every("soil1", NOW - 30 * HOUR, NOW, 10 * MINUTE, (ts) => (ts < watered ? 25 : 60 - (12 * (ts - watered)) / DAY));
      // Too cold for it: 14 °C for the last three days.
      const temperature = every("temp1", NOW - 3 * DAY, NOW, 15 * MINUTE, () => 14);
      await postVisible(server, token, [...soil, ...temperature]);
      const sensors = (await api.sensors.list.query({ siteId })).items;
      for (const s of sensors) await api.sensors.assign.mutate({ siteId, sensorId: s.id, plantId: plant.id });
      await api.waterings.record.mutate({ siteId, plantId: plant.id, startedAt: new Date(watered) });

      const plan = await api.plants.carePlan.query({ siteId, plantId: plant.id });
      const line = (kind: string) => plan.lines.find((l) => l.kind === kind)!;

      const water = line("water");
      const measuredDays = (60 - care.soilMoisture.min) / 12;
      expect(care.wateringIntervalDays).toBe(7);
      expect(water).toMatchObject({ status: "adjust", everyDays: Math.floor(measuredDays) });
      expect(water.advice).toContain(`Water every 2 days instead of every 7: 5 days sooner (71 % shorter)`);
      expect(water.nextDueAt!.getTime()).toBe(watered + 2 * DAY);
      const rate = water.basis.find((b) => b.unit === "%/day")!;
      expect(rate.source).toBe("measurement");
      expect(rate.value!).toBeCloseTo(-12, 1);
      expect(water.basis).toEqual(
        expect.arrayContaining([
          { source: "species", fact: "watering interval of Monstera deliciosa", value: 7, unit: "days" },
          { source: "species", fact: "lower soil-moisture bound", value: care.soilMoisture.min, unit: "%" },
          { source: "history", fact: "last watered", value: watered, unit: "epoch ms" },
        ]),
      );

      const temp = line("temperature");
      expect(temp.status).toBe("adjust");
      expect(temp.advice).toStartWith("Too cold: 14 °C on average");
      expect(temp.basis).toEqual(expect.arrayContaining([{ source: "measurement", fact: expect.stringContaining("mean temperature"), value: 14, unit: "°C" }, { source: "species", fact: "lower temperature bound", value: care.temperature.min, unit: "°C" }]));
      expect(line("humidity").status).toBe("unknown");
      expect(line("light")).toMatchObject({ status: "unknown", basis: [{ source: "species", unit: `${care.dli.min}–${care.dli.max} mol/m²/day` }] });

      // No feed recorded: due now, every 30 days; repotting: a 35 cm pot waits half as long again as the species' 24 months.
      expect(line("fertilize")).toMatchObject({ status: "due", everyDays: care.fertilizeIntervalDays });
      const repot = line("repot");
      expect(repot).toMatchObject({ status: "ok", everyMonths: 36 });
      expect(repot.basis.map((b) => b.source)).toEqual(["species", "plant", "plant"]);
      expect(repot.nextDueAt!.getTime()).toBeGreaterThan(repottedAt.getTime() + 35 * 30 * DAY);

      // A plant's own interval is what the measurement is compared with, when it has one.
      await api.plants.update.mutate({ siteId, plantId: plant.id, wateringIntervalDays: 4 });
      const own = (await api.plants.carePlan.query({ siteId, plantId: plant.id })).lines.find((l) => l.kind === "water")!;
      expect(own.advice).toContain("instead of every 4: 2 days sooner");
      expect(own.basis).toContainEqual({ source: "plant", fact: "watering interval", value: 4, unit: "days" });

      // Applying the plan makes the recurring lines tasks, once.
      const first = await api.plants.applyCarePlan.mutate({ siteId, plantId: plant.id });
      expect(first.tasks.map((t) => [t.line, t.outcome])).toEqual([
        ["water", "created"],
        ["fertilize", "created"],
        ["repot", "created"],
      ]);
      const tasks = (await api.tasks.list.query({ siteId, plantId: plant.id })).items;
      expect(tasks.map((t) => [t.kind, t.rrule, t.carePlanLine]).sort()).toEqual(
        [
          ["fertilize", `FREQ=DAILY;INTERVAL=${care.fertilizeIntervalDays}`, "fertilize"],
          ["repot", "FREQ=MONTHLY;INTERVAL=36", "repot"],
          ["water", "FREQ=DAILY;INTERVAL=2", "water"],
        ].sort(),
      );
      const second = await api.plants.applyCarePlan.mutate({ siteId, plantId: plant.id });
      expect(second.tasks.map((t) => t.outcome)).toEqual(["unchanged", "unchanged", "unchanged"]);
      expect(second.tasks.map((t) => t.taskId)).toEqual(first.tasks.map((t) => t.taskId));
      expect((await api.tasks.list.query({ siteId, plantId: plant.id })).items).toHaveLength(3);

      // A changed plan updates the task it made (the soil now lasts longer than a 1-day interval).
      await api.plants.update.mutate({ siteId, plantId: plant.id, wateringIntervalDays: 1 });
      const third = await api.plants.applyCarePlan.mutate({ siteId, plantId: plant.id });
      expect(third.tasks.find((t) => t.line === "water")).toEqual({ line: "water", outcome: "updated", taskId: first.tasks[0]!.taskId });
      expect((await api.tasks.get.query({ siteId, taskId: first.tasks[0]!.taskId })).rrule).toBe("FREQ=DAILY;INTERVAL=1");
      expect((await api.tasks.list.query({ siteId, plantId: plant.id })).items).toHaveLength(3);
    });

    test("a task made by hand is kept, not doubled; an archived plant takes no tasks", async () => {
      const [basil] = (await api.species.search.query({ query: "basil" })).items;
      const plant = await api.plants.create.mutate({ siteId, name: "Basil", speciesId: basil!.id });
      const mine = await api.tasks.create.mutate({ siteId, plantId: plant.id, kind: "water", startsAt: new Date(NOW + HOUR), rrule: "FREQ=DAILY" });
      const applied = await api.plants.applyCarePlan.mutate({ siteId, plantId: plant.id });
      expect(applied.tasks.find((t) => t.line === "water")).toEqual({ line: "water", outcome: "kept", taskId: mine.id });
      expect((await api.tasks.list.query({ siteId, plantId: plant.id })).items.filter((t) => t.kind === "water")).toHaveLength(1);

      await api.plants.archive.mutate({ siteId, plantId: plant.id });
      expect(await failureOf(api.plants.applyCarePlan.mutate({ siteId, plantId: plant.id }))).toMatchObject({ code: "CONFLICT", issues: [{ path: "plantId" }] });
    });
  });
}
