import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { eq, sql } from "drizzle-orm";
import { splitWindow } from "../clickhouse/analytics/windows";
import { sensorAssignments, sensors } from "../db/schema";
import { spanAt, timelineOf, windowsOf } from "../server/analytics/windows";
import type { SensorFacts } from "../server/sites";
import { chartPointsOf, localDate, pointsOf, type Reading } from "./support/analytics";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { postVisible } from "./support/visible";

/**
 * History stays with the plant: a sensor's readings belong to the plant it was assigned to when
 * it took them, and keep the metric it measured then, in every figure a plant has (series, charts,
 * plant metrics, latest values, export).
 */

const PASSWORD = "correct horse battery";
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
// Real time matters: ClickHouse applies the raw TTL against its own clock, so readings must be recent.
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE;
const TZ = "Europe/Berlin";

interface Expected {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

/** Buckets computed here from the readings, by bucket key. */
function group(readings: Reading[], keyOf: (ts: number) => number | string): Map<number | string, Expected> {
  const out = new Map<number | string, Expected & { lastTs: number }>();
  for (const r of readings) {
    const key = keyOf(r.ts);
    const e = out.get(key) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity, last: NaN, lastTs: -Infinity };
    e.count++;
    e.sum += r.value;
    e.min = Math.min(e.min, r.value);
    e.max = Math.max(e.max, r.value);
    if (r.ts >= e.lastTs) Object.assign(e, { last: r.value, lastTs: r.ts });
    out.set(key, e);
  }
  return out;
}

function every(sensor: string, from: number, to: number, step: number, valueOf: (ts: number, i: number) => number): Reading[] {
  const out: Reading[] = [];
  for (let ts = from, i = 0; ts < to; ts += step, i++) out.push({ sensor, ts, value: Math.round(valueOf(ts, i) * 100) / 100 });
  return out;
}

const fact = (partial: Partial<SensorFacts>): SensorFacts => ({
  id: "00000000-0000-4000-8000-000000000001",
  deviceId: "d",
  deviceName: "d",
  key: "soil1",
  name: null,
  label: "soil1",
  metric: "soil_moisture",
  unit: "%",
  plantId: null,
  calibration: null,
  expectedReportIntervalSeconds: 300,
  createdAt: new Date(1_000),
  assignments: [],
  pastMetrics: [],
  ...partial,
});

describe("a sensor's timeline and its windows (pure)", () => {
  test("the first assignment also holds what came before; later gaps belong to no plant; metrics change at their moment", () => {
    const sensor = fact({
      plantId: "b",
      metric: "humidity",
      unit: "%RH",
      assignments: [
        { plantId: "a", from: 100, to: 200 },
        { plantId: "b", from: 300, to: null },
      ],
      pastMetrics: [{ metric: "temperature", unit: "°C", from: 1, to: 250 }],
    });
    expect(timelineOf(sensor)).toEqual([
      { from: -Infinity, to: 200, plantId: "a", metric: "temperature", unit: "°C" },
      { from: 200, to: 250, plantId: null, metric: "temperature", unit: "°C" },
      { from: 250, to: 300, plantId: null, metric: "humidity", unit: "%RH" },
      { from: 300, to: Infinity, plantId: "b", metric: "humidity", unit: "%RH" },
    ]);
    expect(spanAt(timelineOf(sensor), 299).plantId).toBeNull();
    expect(spanAt(timelineOf(sensor), 300).plantId).toBe("b");
    expect(windowsOf(sensor, { plantId: "a", from: 0, to: 1000 })).toEqual([{ sensorId: sensor.id, from: 0, to: 200 }]);
    expect(windowsOf(sensor, { metric: "humidity", from: 0, to: 1000 })).toEqual([{ sensorId: sensor.id, from: 250, to: 1000 }]);
    expect(windowsOf(sensor, { plantId: "b", metric: "temperature", from: 0, to: 1000 })).toEqual([]);
  });

  test("a window is split into whole rollup buckets and raw partial ones, and where raw is gone the bucket goes by its start", () => {
    const w = { sensorId: "s", from: 10 * MINUTE, to: 3 * HOUR + 20 * MINUTE };
    expect(splitWindow(w, HOUR, 0)).toEqual({
      rollup: { sensorId: "s", from: HOUR, to: 3 * HOUR },
      raw: [
        { sensorId: "s", from: 10 * MINUTE, to: HOUR },
        { sensorId: "s", from: 3 * HOUR, to: 3 * HOUR + 20 * MINUTE },
      ],
    });
    // Raw readings kept from 2 h on: the head's bucket (0 h) goes to whoever holds its start.
    expect(splitWindow(w, HOUR, 2 * HOUR)).toEqual({
      rollup: { sensorId: "s", from: HOUR, to: 3 * HOUR },
      raw: [{ sensorId: "s", from: 3 * HOUR, to: 3 * HOUR + 20 * MINUTE }],
    });
    // Nothing raw kept: the tail's bucket (3 h) starts inside the window, so it is this window's.
    expect(splitWindow(w, HOUR, 10 * HOUR)).toEqual({ rollup: { sensorId: "s", from: HOUR, to: 4 * HOUR }, raw: [] });
    // Adjacent windows split their shared bucket without overlap, whatever is kept.
    for (const rawStart of [0, 2 * HOUR, 10 * HOUR]) {
      const before = splitWindow({ sensorId: "s", from: 0, to: 3 * HOUR + 20 * MINUTE }, HOUR, rawStart);
      const after = splitWindow({ sensorId: "s", from: 3 * HOUR + 20 * MINUTE, to: 6 * HOUR }, HOUR, rawStart);
      const covered = [before.rollup, after.rollup, ...before.raw, ...after.raw]
        .filter((p): p is NonNullable<typeof p> => p !== null)
        .sort((a, b) => a.from - b.from);
      for (let i = 1; i < covered.length; i++) expect(covered[i]!.from).toBeGreaterThanOrEqual(covered[i - 1]!.to);
    }
    // Inside one bucket: raw, or nothing once raw is gone (the bucket's start is not in it).
    expect(splitWindow({ sensorId: "s", from: 10 * MINUTE, to: 50 * MINUTE }, HOUR, 0).raw).toHaveLength(1);
    expect(splitWindow({ sensorId: "s", from: 10 * MINUTE, to: 50 * MINUTE }, HOUR, HOUR)).toEqual({ rollup: null, raw: [] });
  });
});

for (const engine of postgresEngines) {
  describe(`history stays with the plant on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let token: string;
    let siteId: string;
    const clock = testClock(new Date(NOW));

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      const owner = await server.client().auth.register.mutate({ email: `history-${engine}@example.com`, password: PASSWORD, displayName: "H", timezone: TZ, client: "app" });
      token = owner.token!;
      api = server.client(token);
      siteId = owner.personalSiteId;
    });
    afterAll(() => server.close());

    async function exportLines(params: Record<string, string>) {
      const response = await fetch(`${server.url}/v1/export?${new URLSearchParams({ siteId, format: "ndjson", ...params })}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const text = await response.text();
      return text
        .trimEnd()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { ts: number; sensorId: string; metric: string; unit: string; plantId: string | null; value: number });
    }

    test("a sensor reassigned mid-range gives each plant only its own readings: series, charts, plant metrics, latest values and export", async () => {
      const a = await api.plants.create.mutate({ siteId, name: "Fern by the door" });
      const b = await api.plants.create.mutate({ siteId, name: "Fern by the window" });
      const { device, token: deviceToken } = await api.devices.provision.mutate({ siteId, name: "probe-hub" });
      clock.set(new Date(NOW - 10 * HOUR));
      const soil = await api.sensors.create.mutate({ siteId, deviceId: device.id, key: "soil1", metric: "soil_moisture", plantId: a.id });
      const hum = await api.sensors.create.mutate({ siteId, deviceId: device.id, key: "hum1", metric: "humidity", plantId: a.id });

      // Moved at an instant on neither the minute nor the hour grid: both rollups' buckets are split there.
      const R = NOW - 3 * HOUR + 17 * MINUTE + 30_000;
      clock.set(new Date(R));
      await api.sensors.assign.mutate({ siteId, sensorId: soil.id, plantId: b.id });
      await api.sensors.assign.mutate({ siteId, sensorId: hum.id, plantId: b.id });
      clock.set(new Date(NOW));

      const F = NOW - 8 * HOUR;
      // Every 30 s, one reading exactly at R (it is taken after the move: plant B's).
      const soilReadings = every("soil1", F, NOW - MINUTE, 30_000, (ts, i) => 40 + 10 * Math.sin(i / 50) + (i % 7));
      // Humidity only before the move: plant B has no humidity reading of its own yet.
      const humReadings = every("hum1", F, R - MINUTE, 5 * MINUTE, (_, i) => 55 + (i % 5));
      expect(soilReadings.some((r) => r.ts === R)).toBe(true);
      await postVisible(server, deviceToken, [...soilReadings, ...humReadings]);
      const own = { [a.id]: soilReadings.filter((r) => r.ts < R), [b.id]: soilReadings.filter((r) => r.ts >= R) };

      // Series: fixed buckets from raw (10 s), the minute and hour rollups split at R, and local days.
      for (const bucket of ["10s", "1m", "1h", "1d"] as const) {
        let counted = 0;
        for (const plant of [a, b]) {
          const res = await api.analytics.series.query({ siteId, plantId: plant.id, metric: "soil_moisture", from: new Date(F), to: new Date(NOW), bucket });
          expect(res.series.map((s) => s.sensorId)).toEqual([soil.id]);
          const series = res.series[0]!;
          expect(series).toMatchObject({ plantId: plant.id, metric: "soil_moisture", unit: "%" });
          if (plant.id === a.id) expect(series.windows!.at(-1)!.to).toBe(R);
          else expect(series.windows![0]!.from).toBe(R);
          const step = { "10s": 10_000, "1m": MINUTE, "1h": HOUR }[bucket as "10s"];
          const expected = group(own[plant.id]!, (ts) => (bucket === "1d" ? localDate(ts, TZ) : Math.floor(ts / step) * step));
          const got = pointsOf(series.buckets);
          expect(got.map((p) => (bucket === "1d" ? localDate(p.t, TZ) : p.t))).toEqual([...expected.keys()]);
          for (const p of got) {
            const e = expected.get(bucket === "1d" ? localDate(p.t, TZ) : p.t)!;
            expect({ t: p.t, count: p.count, min: p.min, max: p.max, last: p.last }).toEqual({ t: p.t, count: e.count, min: e.min, max: e.max, last: e.last });
            expect(p.avg).toBeCloseTo(e.sum / e.count, 9);
            counted += p.count;
          }
        }
        // Every reading once: nothing lost at the move, nothing counted for both plants.
        expect({ bucket, counted }).toEqual({ bucket, counted: soilReadings.length });
      }

      // Charts: every point of a plant is one of its own readings; the first and last are kept.
      for (const plant of [a, b]) {
        const chart = await api.analytics.chart.query({ siteId, plantId: plant.id, metric: "soil_moisture", from: new Date(F), to: new Date(NOW), points: 100 });
        const points = chartPointsOf(chart.series[0]!.points);
        const mine = own[plant.id]!;
        const byTs = new Map(mine.map((r) => [r.ts, r.value]));
        expect(points.length).toBeLessThanOrEqual(100);
        for (const p of points) expect(byTs.get(p.t)).toBe(p.v);
        expect(points[0]).toEqual({ t: mine[0]!.ts, v: mine[0]!.value });
        expect(points.at(-1)).toEqual({ t: mine.at(-1)!.ts, v: mine.at(-1)!.value });
      }

      // Plant metrics: each local day's mean soil moisture from the plant's own readings only.
      for (const plant of [a, b]) {
        const res = await api.analytics.plantMetrics.query({ siteId, plantId: plant.id, from: new Date(F), to: new Date(NOW) });
        const expected = group(own[plant.id]!, (ts) => localDate(ts, TZ));
        const means = res.days.filter((d) => d.means.soil_moisture !== null);
        expect(means.map((d) => d.date)).toEqual([...expected.keys()] as string[]);
        for (const d of means) expect(d.means.soil_moisture!).toBeCloseTo(expected.get(d.date)!.sum / expected.get(d.date)!.count, 9);
        // Humidity was measured for A only (before the move).
        expect(res.days.some((d) => d.means.humidity !== null)).toBe(plant.id === a.id);
      }

      // Export by plant: exactly the plant's readings, in time order, each naming the plant.
      for (const plant of [a, b]) {
        const lines = (await exportLines({ plantId: plant.id, metric: "soil_moisture", from: String(F), to: String(NOW) })).filter((l) => l.sensorId === soil.id);
        expect(lines.map((l) => [l.ts, l.value])).toEqual(own[plant.id]!.map((r) => [r.ts, r.value]));
        expect(new Set(lines.map((l) => l.plantId))).toEqual(new Set([plant.id]));
      }
      // By sensor: all of them, each with the plant it was taken for.
      const all = await exportLines({ sensorIds: soil.id, from: String(F), to: String(NOW) });
      expect(all).toHaveLength(soilReadings.length);
      for (const line of all) expect(line.plantId).toBe(line.ts < R ? a.id : b.id);

      // Latest values by plant: what each sensor measured since it is the plant's.
      const latestB = await api.analytics.latest.query({ siteId, plantIds: [b.id] });
      const place = (id: string) => latestB.values.sensorId.indexOf(id);
      expect([...latestB.values.sensorId].sort()).toEqual([soil.id, hum.id].sort());
      expect(latestB.values.value[place(soil.id)]).toBe(soilReadings.at(-1)!.value);
      expect(latestB.values.value[place(hum.id)]).toBeNull();
      expect((await api.analytics.latest.query({ siteId, plantIds: [a.id] })).values.sensorId).toEqual([]);
      const site = await api.analytics.latest.query({ siteId });
      expect(site.values.value[site.values.sensorId.indexOf(hum.id)]).toBe(humReadings.at(-1)!.value);

      // The history itself.
      const history = await api.sensors.assignmentHistory.query({ siteId, sensorId: soil.id });
      expect(history.map((h) => ({ plantId: h.plantId, from: h.from.getTime(), to: h.to?.getTime() ?? null, current: h.current }))).toEqual([
        { plantId: b.id, from: R, to: null, current: true },
        { plantId: a.id, from: NOW - 10 * HOUR, to: R, current: false },
      ]);
      const plantA = await api.plants.get.query({ siteId, plantId: a.id });
      expect(plantA.sensors).toEqual([]);
      expect(plantA.pastSensors.map((p) => ({ sensorId: p.sensorId, to: p.to.getTime() })).sort((x, y) => x.sensorId.localeCompare(y.sensorId))).toEqual(
        [soil.id, hum.id].sort().map((sensorId) => ({ sensorId, to: R })),
      );
      const plantB = await api.plants.get.query({ siteId, plantId: b.id });
      expect(plantB.sensors.map((s) => s.assignedSince?.getTime())).toEqual([R, R]);
      expect(plantB.pastSensors).toEqual([]);
      // Assigning to the plant it already has changes nothing.
      await api.sensors.assign.mutate({ siteId, sensorId: soil.id, plantId: b.id });
      expect(await api.sensors.assignmentHistory.query({ siteId, sensorId: soil.id })).toHaveLength(2);
    });

    test("an assignment written without its history (psql, an older version) still counts, and the migration's backfill opens it from the sensor's creation", async () => {
      const plant = await api.plants.create.mutate({ siteId, name: "Cactus" });
      const { device, token: deviceToken } = await api.devices.provision.mutate({ siteId, name: "legacy-hub" });
      const created = new Date(NOW - 6 * HOUR);
      const [row] = await server.stores.db
        .insert(sensors)
        .values({ siteId, deviceId: device.id, key: "soil9", metric: "soil_moisture", unit: "%", plantId: plant.id, createdAt: created })
        .returning();
      await server.directory.settle();
      const readings = every("soil9", NOW - 5 * HOUR, NOW - MINUTE, 10 * MINUTE, (_, i) => 30 + i);
      await postVisible(server, deviceToken, readings);
      const res = await api.analytics.series.query({ siteId, plantId: plant.id, metric: "soil_moisture", from: new Date(NOW - 6 * HOUR), to: new Date(NOW), bucket: "1h" });
      expect(pointsOf(res.series[0]!.buckets).reduce((n, p) => n + p.count, 0)).toBe(readings.length);

      // The backfill of migration 0008, run again: an open interval from the sensor's creation, once.
      const backfill = readFileSync(new URL("../db/migrations/0008_sensor_history_backfill_and_change_events.sql", import.meta.url), "utf8").split("--> statement-breakpoint")[0]!;
      await server.stores.db.execute(sql.raw(backfill));
      await server.stores.db.execute(sql.raw(backfill));
      const history = await server.stores.db.select().from(sensorAssignments).where(eq(sensorAssignments.sensorId, row!.id));
      expect(history.map((h) => ({ plantId: h.plantId, startedAt: h.startedAt.getTime(), endedAt: h.endedAt }))).toEqual([{ plantId: plant.id, startedAt: created.getTime(), endedAt: null }]);
    });

    test("changing a sensor's metric does not reinterpret its old readings", async () => {
      const plant = await api.plants.create.mutate({ siteId, name: "Orchid" });
      const { device, token: deviceToken } = await api.devices.provision.mutate({ siteId, name: "climate-hub" });
      clock.set(new Date(NOW - 10 * HOUR));
      const probe = await api.sensors.create.mutate({ siteId, deviceId: device.id, key: "probe", metric: "temperature", plantId: plant.id });
      const M = NOW - 4 * HOUR + 7 * MINUTE + 15_000;
      clock.set(new Date(M));
      const changed = await api.sensors.update.mutate({ siteId, sensorId: probe.id, metric: "humidity" });
      expect(changed.unit).toBe("%RH");
      clock.set(new Date(NOW));
      const F = NOW - 8 * HOUR;
      const readings = every("probe", F, NOW - MINUTE, MINUTE, (ts, i) => (ts < M ? 20 + (i % 3) : 60 + (i % 4)));
      await postVisible(server, deviceToken, readings);
      const temperature = readings.filter((r) => r.ts < M);
      const humidity = readings.filter((r) => r.ts >= M);

      // By plant and metric: each metric's series holds only the readings taken under it.
      for (const [metric, mine, unit] of [["temperature", temperature, "°C"], ["humidity", humidity, "%RH"]] as const) {
        const res = await api.analytics.series.query({ siteId, plantId: plant.id, metric, from: new Date(F), to: new Date(NOW), bucket: "1h" });
        expect(res.series.map((s) => ({ sensorId: s.sensorId, metric: s.metric, unit: s.unit }))).toEqual([{ sensorId: probe.id, metric, unit }]);
        const got = pointsOf(res.series[0]!.buckets);
        expect(got.reduce((n, p) => n + p.count, 0)).toBe(mine.length);
        const expected = group(mine, (ts) => Math.floor(ts / HOUR) * HOUR);
        for (const p of got) expect(p.avg).toBeCloseTo(expected.get(p.t)!.sum / expected.get(p.t)!.count, 9);
      }
      // By sensor, as before: every reading it took.
      const bySensor = await api.analytics.series.query({ siteId, sensorIds: [probe.id], from: new Date(F), to: new Date(NOW), bucket: "1h" });
      expect(pointsOf(bySensor.series[0]!.buckets).reduce((n, p) => n + p.count, 0)).toBe(readings.length);

      // Plant metrics: daily means of each metric from its own readings.
      const metrics = await api.analytics.plantMetrics.query({ siteId, plantId: plant.id, from: new Date(F), to: new Date(NOW) });
      for (const [metric, mine] of [["temperature", temperature], ["humidity", humidity]] as const) {
        const expected = group(mine, (ts) => localDate(ts, TZ));
        const days = metrics.days.filter((d) => d.means[metric] !== null);
        expect(days.map((d) => d.date)).toEqual([...expected.keys()] as string[]);
        for (const d of days) expect(d.means[metric]!).toBeCloseTo(expected.get(d.date)!.sum / expected.get(d.date)!.count, 9);
      }

      // Export: by metric only the readings taken under it; every line says the metric it was taken under.
      const asTemperature = (await exportLines({ metric: "temperature", from: String(F), to: String(NOW) })).filter((l) => l.sensorId === probe.id);
      expect(asTemperature.map((l) => l.ts)).toEqual(temperature.map((r) => r.ts));
      expect(new Set(asTemperature.map((l) => `${l.metric} ${l.unit}`))).toEqual(new Set(["temperature °C"]));
      const everything = await exportLines({ sensorIds: probe.id, from: String(F), to: String(NOW) });
      expect(everything.map((l) => l.metric)).toEqual(readings.map((r) => (r.ts < M ? "temperature" : "humidity")));

      const metricHistory = await api.sensors.metricHistory.query({ siteId, sensorId: probe.id });
      expect(metricHistory.map((m) => ({ metric: m.metric, unit: m.unit, from: m.from.getTime(), to: m.to?.getTime() ?? null }))).toEqual([
        { metric: "humidity", unit: "%RH", from: M, to: null },
        { metric: "temperature", unit: "°C", from: NOW - 10 * HOUR, to: M },
      ]);
    });
  });
}
