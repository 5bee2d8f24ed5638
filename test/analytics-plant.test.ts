import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { devices } from "../db/schema";
import { raiseAlert, resolveAlertByKey } from "../server/alerts/alerts";
import { localDate, localMidnights, postReadings, random, type Reading } from "./support/analytics";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

const PASSWORD = "correct horse battery";
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE;

function every(sensor: string, from: number, to: number, step: number, valueOf: (ts: number) => number): Reading[] {
  const out: Reading[] = [];
  for (let ts = from; ts < to; ts += step) out.push({ sensor, ts, value: valueOf(ts) });
  return out;
}

for (const engine of postgresEngines) {
  describe(`plant-care metrics, device health and fleet on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    const clock = testClock(new Date(NOW));

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      const owner = await server.client().auth.register.mutate({ email: `plant-${engine}@example.com`, password: PASSWORD, displayName: "P", timezone: "Europe/Berlin", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
    });
    afterAll(() => server.close());

    test("DLI from a known lux profile, VPD, days within the plant's ranges, drying rate and dry-by time", async () => {
      const tz = "Europe/Berlin";
      const [basil] = (await api.species.search.query({ query: "basil" })).items;
      const species = await api.species.get.query({ speciesId: basil!.id });
      const plant = await api.plants.create.mutate({
        siteId,
        name: "Basil",
        speciesId: basil!.id,
        thresholds: { soil_moisture: { min: 30, max: 70 }, temperature: { min: 18, max: 30 }, humidity: { min: 40, max: 80 } },
      });
      const { device, token } = await api.devices.provision.mutate({ siteId, name: "plant-hub" });

      // Two whole local days, ending two days before now (clear of the drying readings below).
      const midnights = [...localMidnights(NOW - 6 * DAY, NOW - 2 * DAY, tz)].slice(-3);
      const [d1, d2, d3] = midnights.map(([, t]) => t) as [number, number, number];
      // Lux: a half sine from 06:00 to 18:00 local, peak 20,000 lx on day 1 and 10,000 lx on day 2.
      const lux = (ts: number) => {
        const dayStart = ts < d2 ? d1 : d2;
        const h = (ts - dayStart) / HOUR;
        return h >= 6 && h < 18 ? (ts < d2 ? 20_000 : 10_000) * Math.sin((Math.PI * (h - 6)) / 12) : 0;
      };
      const readings: Reading[] = [
        ...every("lux", d1, d3, MINUTE, lux),
        ...every("temp", d1, d3, 5 * MINUTE, () => 25),
        ...every("hum", d1, d3, 5 * MINUTE, () => 60),
        ...every("soil1", d1, d3, 10 * MINUTE, (ts) => (ts < d2 ? 50 : 20)),
      ];
      // Soil: dry at 25 %, watered to 60 % twenty hours ago, drying by 0.5 points an hour since.
      const watered = Math.floor((NOW - 20 * HOUR) / (10 * MINUTE)) * 10 * MINUTE;
      const soil = (ts: number) => (ts < watered ? 25 : 60 - (0.5 * (ts - watered)) / HOUR);
      readings.push(...every("soil1", NOW - 30 * HOUR, NOW, MINUTE, soil));
      await postReadings(server, token, readings);
      const sensors = (await api.sensors.list.query({ siteId, deviceId: device.id })).items;
      for (const s of sensors) await api.sensors.assign.mutate({ siteId, sensorId: s.id, plantId: plant.id });

      const res = await api.analytics.plantMetrics.query({ siteId, plantId: plant.id, from: new Date(d1), to: new Date(d3) });
      expect(res.source).toBe("1h");
      expect(res.days.map((d) => d.date)).toEqual([localDate(d1, tz), localDate(d2, tz)]);
      expect(res.days.map((d) => d.hours)).toEqual([(d2 - d1) / HOUR, (d3 - d2) / HOUR]);

      // DLI: Σ lux · 60 s · 0.0185 µmol/m²/s per lux / 10⁶, summed here over the generated readings.
      const expectedDli = [d1, d2].map((start, i) =>
        readings.filter((r) => r.sensor === "lux" && r.ts >= start && r.ts < [d2, d3][i]!).reduce((s, r) => s + (r.value * 60 * 0.0185) / 1e6, 0),
      );
      expect(res.days[0]!.dli!).toBeCloseTo(expectedDli[0]!, 6);
      expect(res.days[1]!.dli!).toBeCloseTo(expectedDli[1]!, 6);
      // …and close to the closed form: peak · 12 h · 2/π · 0.0185 / 10⁶ ≈ 10.17 mol/m²/day.
      expect(res.days[0]!.dli!).toBeCloseTo((20_000 * 12 * 3600 * (2 / Math.PI) * 0.0185) / 1e6, 1);
      expect(res.days[0]!.lightCoverage).toBe(1);
      // Another light source's conversion factor scales it.
      const led = await api.analytics.plantMetrics.query({ siteId, plantId: plant.id, from: new Date(d1), to: new Date(d3), ppfdPerLux: 0.015 });
      expect(led.days[0]!.dli!).toBeCloseTo((expectedDli[0]! * 0.015) / 0.0185, 6);

      // VPD at 25 °C and 60 % RH: saturation 3.17 kPa, deficit 1.27 kPa.
      for (const d of res.days) {
        expect(d.vpd!.avg).toBeCloseTo(1.267, 2);
        expect(d.vpd!.min).toBeCloseTo(d.vpd!.max, 9);
      }

      expect(res.days.map((d) => d.means.soil_moisture)).toEqual([50, 20]);
      expect(res.ranges.soil_moisture).toEqual({ unit: "%", min: 30, max: 70, daysWithData: 2, daysWithin: 1, daysBelow: 1, daysAbove: 0 });
      expect(res.ranges.temperature).toMatchObject({ min: 18, max: 30, daysWithData: 2, daysWithin: 2 });
      expect(res.ranges.humidity).toMatchObject({ daysWithData: 2, daysWithin: 2 });
      expect(res.ranges.ec).toMatchObject({ daysWithData: 0, daysWithin: 0 });
      const dliClass = (v: number) => (v < species.care.dli.min ? "below" : v > species.care.dli.max ? "above" : "within");
      const classes = expectedDli.map(dliClass);
      expect(res.ranges.dli).toEqual({
        unit: "mol/m²/d",
        min: species.care.dli.min,
        max: species.care.dli.max,
        daysWithData: 2,
        daysWithin: classes.filter((c) => c === "within").length,
        daysBelow: classes.filter((c) => c === "below").length,
        daysAbove: classes.filter((c) => c === "above").length,
      });

      // Drying: −0.5 points an hour is −12 a day; from the last reading's 50.x % to 30 % at that rate.
      const drying = res.drying!;
      expect(drying.ratePerDay!).toBeCloseTo(-12, 2);
      expect(drying.threshold).toBe(30);
      expect(drying.since!).toBeGreaterThanOrEqual(watered);
      expect(drying.since!).toBeLessThan(watered + 10 * MINUTE);
      const expectedDryBy = watered + ((60 - 30) / 0.5) * HOUR;
      expect(Math.abs(drying.dryBy! - expectedDryBy)).toBeLessThan(MINUTE);
    });

    test("device health: battery trend and days left; stuck, spiking and silent sensors", async () => {
      const site = await api.sites.create.mutate({ name: "Health", timezone: "UTC" });
      const { device, token } = await api.devices.provision.mutate({ siteId: site.id, name: "node1" });
      // An hourly device: silent once nothing came for two hours.
      await api.devices.update.mutate({ siteId: site.id, deviceId: device.id, expectedReportIntervalSeconds: 3600 });
      const rand = random(3);
      const batteryStart = Math.floor((NOW - 10 * DAY) / HOUR) * HOUR;
      const battery = every("battery", batteryStart, NOW, HOUR, (ts) => 90 - (ts - batteryStart) / DAY);
      const readings: Reading[] = [
        ...battery,
        ...every("soil1", NOW - 8 * HOUR, NOW, MINUTE, () => 33.3), // stuck
        ...every("temp", NOW - 26 * HOUR, NOW, 5 * MINUTE, (ts) => (ts === NOW - 10 * MINUTE ? 35 : 20 + rand() * 0.5)), // one spike
        ...every("hum", NOW - 26 * HOUR, NOW, 5 * MINUTE, () => 55 + rand() * 2), // healthy
        ...every("ec", NOW - 6 * HOUR, NOW - 3 * HOUR, 5 * MINUTE, () => 1.2 + rand() * 0.1), // silent for 3 h
      ];
      await postReadings(server, token, readings);
      const ids = Object.fromEntries((await api.sensors.list.query({ siteId: site.id, deviceId: device.id })).items.map((s) => [s.key, s.id])) as Record<string, string>;

      const health = await api.analytics.deviceHealth.query({ siteId: site.id });
      const node = health.devices.find((d) => d.deviceId === device.id)!;
      const lastBattery = battery.at(-1)!.value;
      expect(node.battery.ratePerDay!).toBeCloseTo(-1, 3);
      expect(node.battery.percent!).toBeCloseTo(lastBattery, 6);
      expect(node.battery.daysLeft!).toBeCloseTo(lastBattery / 1, 1);
      expect(health.stuck.map((s) => s.sensorId)).toEqual([ids.soil1!]);
      expect(health.stuck[0]).toMatchObject({ value: 33.3, key: "soil1" });
      expect(health.spiking.map((s) => s.sensorId)).toEqual([ids.temp!]);
      expect(health.spiking[0]!.value).toBe(35);
      expect(health.spiking[0]!.at).toBe(NOW - 10 * MINUTE);
      expect(health.spiking[0]!.z!).toBeGreaterThan(3.5);
      expect(health.silent.map((s) => s.sensorId)).toEqual([ids.ec!]);
      expect(health.silent[0]!.lastReadingAt!).toBe(NOW - 3 * HOUR - 5 * MINUTE);
    });

    test("fleet overview: devices online, stale and offline; open alerts by severity; readings per hour", async () => {
      const site = await api.sites.create.mutate({ name: "Fleet", timezone: "UTC" });
      const { device, token } = await api.devices.provision.mutate({ siteId: site.id, name: "poster" });
      const readings = [...every("soil1", NOW - 30 * HOUR, NOW, 7 * MINUTE, () => 40), ...every("temp", NOW - 5 * HOUR, NOW, 3 * MINUTE, () => 20)];
      await postReadings(server, token, readings);
      await server.ingest.activity.flush();
      const db = server.stores.db;
      const extra: string[] = [];
      for (const name of ["a", "b", "c"]) extra.push((await api.devices.provision.mutate({ siteId: site.id, name })).device.id);
      // Interval 300 s: online within 10 minutes, stale within 50, then offline.
      await db.update(devices).set({ lastSeenAt: new Date(NOW - 30_000) }).where(eq(devices.id, device.id));
      await db.update(devices).set({ lastSeenAt: new Date(NOW - 4 * MINUTE) }).where(eq(devices.id, extra[0]!));
      await db.update(devices).set({ lastSeenAt: new Date(NOW - 20 * MINUTE) }).where(eq(devices.id, extra[1]!));
      await db.update(devices).set({ lastSeenAt: new Date(NOW - 3 * HOUR) }).where(eq(devices.id, extra[2]!));
      const now = new Date(NOW);
      await raiseAlert(db, { siteId: site.id, rule: "r1", subject: "x", severity: "warning", title: "w1" }, now);
      await raiseAlert(db, { siteId: site.id, rule: "r2", subject: "x", severity: "warning", title: "w2" }, now);
      const { alert } = await raiseAlert(db, { siteId: site.id, rule: "r3", subject: "x", severity: "critical", title: "c" }, now);
      await api.alerts.acknowledge.mutate({ siteId: site.id, alertId: alert.id });
      await raiseAlert(db, { siteId: site.id, rule: "r4", subject: "x", severity: "info", title: "i" }, now);
      await resolveAlertByKey(db, { siteId: site.id, rule: "r4", subject: "x" }, now);

      const fleet = await api.analytics.fleet.query({ siteId: site.id, hours: 24 });
      expect(fleet.devices).toEqual({ total: 4, online: 2, stale: 1, offline: 1 });
      expect(fleet.sensors).toBe(2);
      expect(fleet.alerts).toEqual({ info: { active: 0, acknowledged: 0 }, warning: { active: 2, acknowledged: 0 }, critical: { active: 0, acknowledged: 1 } });
      expect(fleet.readingsPerHour).toHaveLength(24);
      const firstHour = fleet.readingsPerHour[0]!.t;
      expect(fleet.readingsPerHour.at(-1)!.t).toBe(Math.floor(NOW / HOUR) * HOUR);
      const expected = fleet.readingsPerHour.map(({ t }) => readings.filter((r) => r.ts >= t && r.ts < t + HOUR).length);
      expect(fleet.readingsPerHour.map((h) => h.count)).toEqual(expected);
      expect(expected.reduce((a, b) => a + b, 0)).toBe(readings.filter((r) => r.ts >= firstHour).length);
    });
  });
}
