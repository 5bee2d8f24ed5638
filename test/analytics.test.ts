import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTRPCClient, httpBatchStreamLink } from "@trpc/client";
import { createAppClient, rowsOf, type AppRouter } from "../client";
import { exportChunks } from "../server/analytics/export";
import { transformer } from "../shared/transformer";
import { exportQuery } from "../shared/schemas/analytics";
import { chartPointsOf, dstDays, localDate, pointsOf, localMidnights, percentileInclusive, postReadings, random, type Reading } from "./support/analytics";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

const PASSWORD = "correct horse battery";
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
// Real time matters: ClickHouse applies the raw TTL against its own clock, so readings must be recent.
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE;

interface Expected {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
  values: number[];
}

/** Buckets computed in the test from the generated readings, keyed by bucket start. */
function group(readings: Reading[], keyOf: (ts: number) => number | string): Map<number | string, Expected> {
  const out = new Map<number | string, Expected>();
  for (const r of readings) {
    const key = keyOf(r.ts);
    const e = out.get(key) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity, last: NaN, lastTs: -Infinity, values: [] };
    e.count++;
    e.sum += r.value;
    e.min = Math.min(e.min, r.value);
    e.max = Math.max(e.max, r.value);
    if (r.ts >= e.lastTs) {
      e.last = r.value;
      e.lastTs = r.ts;
    }
    e.values.push(r.value);
    out.set(key, e);
  }
  return out;
}

function minuteReadings(sensor: string, from: number, to: number, step: number, valueOf: (ts: number, i: number) => number): Reading[] {
  const out: Reading[] = [];
  for (let ts = from, i = 0; ts < to; ts += step, i++) out.push({ sensor, ts, value: valueOf(ts, i) });
  return out;
}

for (const engine of postgresEngines) {
  describe(`analytics over ClickHouse on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let token: string;
    let siteId: string; // Europe/Berlin
    let deviceToken: string;
    const clock = testClock(new Date(NOW));
    const sensorId: Record<string, string> = {};

    // One sensor at a 1-minute cadence over two days, pseudo-random values.
    const T0 = Math.floor((NOW - 2 * DAY) / HOUR) * HOUR;
    const T1 = T0 + 47 * HOUR;
    const rand = random(42);
    const temp = minuteReadings("temp", T0, T1, MINUTE, () => Math.round((15 + 10 * rand()) * 100) / 100);

    async function newDevice(site: string, name: string, client = api) {
      return (await client.devices.provision.mutate({ siteId: site, name })) as { device: { id: string }; token: string };
    }
    async function sensorsOf(site: string, deviceId: string, client = api) {
      const { items } = await client.sensors.list.query({ siteId: site, deviceId, limit: 100 });
      return Object.fromEntries(items.map((s) => [s.key, s.id])) as Record<string, string>;
    }

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now, retention: { rawDays: 400, rollupDays: 730 } });
      const owner = await server.client().auth.register.mutate({ email: `analytics-${engine}@example.com`, password: PASSWORD, displayName: "A", timezone: "Europe/Berlin", client: "app" });
      token = owner.token!;
      api = server.client(token);
      siteId = owner.personalSiteId;
      const hub = await newDevice(siteId, "hub");
      deviceToken = hub.token;
      await postReadings(server, deviceToken, temp);
      Object.assign(sensorId, await sensorsOf(siteId, hub.device.id));
    });
    afterAll(() => server.close());

    describe("series", () => {
      const check = (points: { t: number; avg: number; min: number; max: number; count: number; last: number }[], expected: Map<number | string, Expected>) => {
        expect(points.map((p) => p.t)).toEqual([...expected.keys()] as number[]);
        for (const p of points) {
          const e = expected.get(p.t)!;
          expect(p.count).toBe(e.count);
          expect(p.avg * p.count).toBeCloseTo(e.sum, 6);
          expect(p.min).toBe(e.min);
          expect(p.max).toBe(e.max);
          expect(p.last).toBe(e.last);
        }
      };

      test("hourly buckets come from the hourly rollup and hold the readings' count, sum, min, max and last", async () => {
        const res = await api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!], from: new Date(T0), to: new Date(T1), bucket: "1h" });
        expect(res.source).toBe("1h");
        expect(res.series).toHaveLength(1);
        expect(res.series[0]!.metric).toBe("temperature");
        expect(res.series[0]!.buckets.p50).toBeUndefined(); // percentiles only when asked for
        check(pointsOf(res.series[0]!.buckets), group(temp, (ts) => Math.floor(ts / HOUR) * HOUR));
      });

      test("5-minute buckets come from the minute rollup, 30-second ones from raw readings", async () => {
        const five = await api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!], from: new Date(T0), to: new Date(T0 + 6 * HOUR), bucket: "5m" });
        expect(five.source).toBe("1m");
        check(pointsOf(five.series[0]!.buckets), group(temp.filter((r) => r.ts < T0 + 6 * HOUR), (ts) => Math.floor(ts / 300_000) * 300_000));
        const half = await api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!], from: new Date(T0), to: new Date(T0 + HOUR), bucket: "30s" });
        expect(half.source).toBe("raw");
        check(pointsOf(half.series[0]!.buckets), group(temp.filter((r) => r.ts < T0 + HOUR), (ts) => Math.floor(ts / 30_000) * 30_000));
      });

      test("a range that is not on bucket boundaries is widened to whole buckets", async () => {
        const res = await api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!], from: new Date(T0 + 10 * MINUTE), to: new Date(T0 + 3 * HOUR + MINUTE), bucket: "1h" });
        expect(res.from).toBe(T0);
        expect(res.to).toBe(T0 + 4 * HOUR);
        check(pointsOf(res.series[0]!.buckets), group(temp.filter((r) => r.ts < T0 + 4 * HOUR), (ts) => Math.floor(ts / HOUR) * HOUR));
      });

      test("p50 and p90 per bucket from raw readings (linear interpolation between ranks)", async () => {
        const res = await api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!], from: new Date(T0), to: new Date(T0 + 2 * HOUR), bucket: "15m", percentiles: true });
        expect(res.source).toBe("raw");
        const expected = group(temp.filter((r) => r.ts < T0 + 2 * HOUR), (ts) => Math.floor(ts / 900_000) * 900_000);
        check(pointsOf(res.series[0]!.buckets), expected);
        for (const p of pointsOf(res.series[0]!.buckets)) {
          const values = expected.get(p.t)!.values;
          expect(p.p50!).toBeCloseTo(percentileInclusive(values, 0.5), 9);
          expect(p.p90!).toBeCloseTo(percentileInclusive(values, 0.9), 9);
        }
      });

      test("auto picks the smallest bucket that keeps the answer within maxPoints", async () => {
        const res = await api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!], from: new Date(T0), to: new Date(T1), maxPoints: 100 });
        // 47 hours: 30-minute buckets make 94 points, 15-minute ones 188.
        expect(res.bucket).toBe("30m");
        expect(pointsOf(res.series[0]!.buckets).length).toBeLessThanOrEqual(100);
        check(pointsOf(res.series[0]!.buckets), group(temp, (ts) => Math.floor(ts / 1_800_000) * 1_800_000));
      });

      test("a plant's sensors of one metric", async () => {
        const plant = await api.plants.create.mutate({ siteId, name: "Fern" });
        await api.sensors.assign.mutate({ siteId, sensorId: sensorId.temp!, plantId: plant.id });
        const res = await api.analytics.series.query({ siteId, plantId: plant.id, metric: "temperature", from: new Date(T0), to: new Date(T1), bucket: "1d" });
        expect(res.series.map((s) => s.sensorId)).toEqual([sensorId.temp!]);
        const none = await api.analytics.series.query({ siteId, plantId: plant.id, metric: "humidity", from: new Date(T0), to: new Date(T1), bucket: "1d" });
        expect(none.series).toEqual([]);
        await api.sensors.unassign.mutate({ siteId, sensorId: sensorId.temp! });
      });
    });

    describe("calendar buckets in the site's time zone", () => {
      for (const timezone of ["Europe/Berlin", "America/New_York"]) {
        test(`${timezone}: a day across a daylight-saving change has 23 or 25 hours and its totals are right`, async () => {
          const site = await api.sites.create.mutate({ name: timezone, timezone });
          const { device, token: dt } = await newDevice(site.id, "dst");
          const changes = dstDays(timezone, NOW, 360);
          expect(changes.length).toBeGreaterThanOrEqual(2); // spring and autumn within a year
          const readings: Reading[] = [];
          for (const day of changes) {
            readings.push(...minuteReadings("level", day.start - DAY, day.end + DAY, 5 * MINUTE, (ts) => (ts / MINUTE) % 7));
          }
          await postReadings(server, dt, readings);
          const id = (await sensorsOf(site.id, device.id)).level!;
          for (const day of changes) {
            const from = day.start - DAY;
            const to = day.end + DAY;
            const res = await api.analytics.series.query({ siteId: site.id, sensorIds: [id], from: new Date(from), to: new Date(to), bucket: "1d" });
            expect(res.source).toBe("1h");
            expect(res.timezone).toBe(timezone);
            const inRange = readings.filter((r) => r.ts >= from && r.ts < to);
            const expected = group(inRange, (ts) => localDate(ts, timezone));
            const midnights = localMidnights(from - DAY, to, timezone);
            const points = pointsOf(res.series[0]!.buckets);
            expect(points.map((p) => localDate(p.t, timezone))).toEqual([...expected.keys()] as string[]);
            for (const p of points) {
              const date = localDate(p.t, timezone);
              expect(p.t).toBe(midnights.get(date)!); // buckets start at local midnight
              const e = expected.get(date)!;
              expect(p.count).toBe(e.count);
              expect(p.avg * p.count).toBeCloseTo(e.sum, 6);
              expect(p.min).toBe(e.min);
              expect(p.max).toBe(e.max);
            }
            const changeDay = points.find((p) => localDate(p.t, timezone) === day.date)!;
            const hours = (day.end - day.start) / HOUR;
            expect([23, 25]).toContain(hours);
            expect(changeDay.count).toBe(hours * 12);

            // The week holding the change: Monday to Monday in local time.
            const week = await api.analytics.series.query({ siteId: site.id, sensorIds: [id], from: new Date(day.start), to: new Date(day.end), bucket: "1w" });
            const weekStart = pointsOf(week.series[0]!.buckets)[0]!.t;
            expect(new Intl.DateTimeFormat("en-US", { timeZone: timezone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(weekStart)).toBe("Mon 00:00");
            const weekEnd = week.to;
            const inWeek = readings.filter((r) => r.ts >= weekStart && r.ts < weekEnd);
            expect(pointsOf(week.series[0]!.buckets)[0]!.count).toBe(inWeek.length);
          }
        });
      }

      test("Asia/Kolkata (UTC+5:30): local days are cut at half hours, from the minute rollup", async () => {
        const timezone = "Asia/Kolkata";
        const site = await api.sites.create.mutate({ name: "Kolkata", timezone });
        const { device, token: dt } = await newDevice(site.id, "kolkata");
        const from = Math.floor((NOW - 3 * DAY) / HOUR) * HOUR;
        const to = from + 2 * DAY + 5 * HOUR;
        const readings = minuteReadings("soil", from, to, MINUTE, (ts) => (ts / MINUTE) % 11);
        await postReadings(server, dt, readings);
        const id = (await sensorsOf(site.id, device.id)).soil!;
        for (const bucket of ["1d", "1mo"] as const) {
          const res = await api.analytics.series.query({ siteId: site.id, sensorIds: [id], from: new Date(from), to: new Date(to), bucket });
          expect(res.source).toBe("1m");
          const keyOf = bucket === "1d" ? (ts: number) => localDate(ts, timezone) : (ts: number) => localDate(ts, timezone).slice(0, 7);
          const inRange = readings.filter((r) => r.ts >= res.from && r.ts < res.to);
          const expected = group(inRange, keyOf);
          const points = pointsOf(res.series[0]!.buckets);
          expect(points.map((p) => keyOf(p.t))).toEqual([...expected.keys()] as string[]);
          for (const p of points) {
            expect(p.count).toBe(expected.get(keyOf(p.t))!.count);
            expect(p.avg * p.count).toBeCloseTo(expected.get(keyOf(p.t))!.sum, 6);
            // Local midnight in Kolkata is 18:30 UTC.
            expect(new Date(p.t).toISOString().slice(11, 16)).toBe("18:30");
          }
        }
      });
    });

    describe("chart data", () => {
      test("largest-triangle-three-buckets keeps at most N points, the ends and the peak", async () => {
        const from = Math.floor((NOW - 2 * DAY) / HOUR) * HOUR;
        const rand = random(7);
        const readings = minuteReadings("spiky", from, from + 2 * DAY - HOUR, MINUTE, (_, i) => (i === 1234 ? 95 : 20 + Math.sin(i / 50) + rand() * 0.2));
        await postReadings(server, deviceToken, readings);
        const id = (await sensorsOf(siteId, (await api.devices.list.query({ siteId })).find((d) => d.name === "hub")!.id)).spiky!;
        for (const points of [3, 100, 1000]) {
          const res = await api.analytics.chart.query({ siteId, sensorIds: [id], from: new Date(from), to: new Date(from + 2 * DAY), points });
          expect(res.source).toBe("raw");
          const pts = chartPointsOf(res.series[0]!.points);
          expect(pts).toHaveLength(points);
          expect(pts[0]).toEqual({ t: readings[0]!.ts, v: readings[0]!.value });
          expect(pts.at(-1)).toEqual({ t: readings.at(-1)!.ts, v: readings.at(-1)!.value });
          if (points > 3) expect(pts).toContainEqual({ t: readings[1234]!.ts, v: 95 });
          expect(pts.map((p) => p.t)).toEqual([...pts.map((p) => p.t)].sort((a, b) => a - b));
        }
      });
    });

    describe("a sensor's answer does not depend on the company it is asked in", () => {
      // One query serves every sensor asked about together: a sensor's buckets and points must be
      // the same alone or among others, however the call is sent.
      const range = () => ({ from: new Date(T0), to: new Date(T1) });
      let spiky: string;
      beforeAll(async () => {
        spiky = (await sensorsOf(siteId, (await api.devices.list.query({ siteId })).find((d) => d.name === "hub")!.id)).spiky!;
      });

      test("alone or among others, a sensor's buckets and chart points are the same", async () => {
        for (const bucket of ["5m", "1h", "1d"] as const) {
          const alone = await api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!], ...range(), bucket, percentiles: bucket === "5m" });
          const pair = await api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!, spiky], ...range(), bucket, percentiles: bucket === "5m" });
          expect(alone.series[0]!.buckets.t.length).toBeGreaterThan(0);
          expect(pair.series.find((s) => s.sensorId === sensorId.temp)!.buckets).toEqual(alone.series[0]!.buckets);
          const spikyAlone = await api.analytics.series.query({ siteId, sensorIds: [spiky], ...range(), bucket, percentiles: bucket === "5m" });
          expect(pair.series.find((s) => s.sensorId === spiky)!.buckets).toEqual(spikyAlone.series[0]!.buckets);
        }
        const chartAlone = await api.analytics.chart.query({ siteId, sensorIds: [sensorId.temp!], ...range(), points: 200 });
        const chartPair = await api.analytics.chart.query({ siteId, sensorIds: [spiky, sensorId.temp!], ...range(), points: 200 });
        expect(chartAlone.series[0]!.points.t).toHaveLength(200);
        expect(chartPair.series.find((s) => s.sensorId === sensorId.temp)!.points).toEqual(chartAlone.series[0]!.points);
      });

      test("batched with other calls, and streamed as JSON lines, the answers are the same", async () => {
        const calls = (client: typeof api) =>
          Promise.all([
            client.analytics.series.query({ siteId, sensorIds: [sensorId.temp!], ...range(), bucket: "1h" }),
            client.analytics.series.query({ siteId, sensorIds: [spiky], ...range(), bucket: "1h" }),
            client.analytics.chart.query({ siteId, sensorIds: [spiky], ...range(), points: 50 }),
            client.analytics.latest.query({ siteId }),
            client.analytics.latest.query({ siteId, withSensors: true }),
          ]);
        const one = createAppClient({ url: server.url, token, batch: false });
        const expected = await calls(one);
        expect(expected[0].series[0]!.buckets.t).toHaveLength(47);
        expect(expected[4].sensors!.key).toHaveLength(expected[4].values.sensorId.length);
        // The app client batches calls made together into one HTTP request.
        let requests = 0;
        const batched = createAppClient({ url: server.url, token, fetch: ((input: RequestInfo | URL, init?: RequestInit) => (requests++, fetch(input, init))) as typeof fetch });
        expect(await calls(batched)).toEqual(expected);
        expect(requests).toBe(1);
        // A client of tRPC's streaming link gets JSON lines, which are not spliced: the values are parsed and sent.
        const streamed = createTRPCClient<AppRouter>({ links: [httpBatchStreamLink({ url: `${server.url}/trpc`, transformer, headers: { authorization: `Bearer ${token}` } })] });
        expect(await calls(streamed as unknown as typeof api)).toEqual(expected);
      });

      test("a sensor name that looks like the placeholder is sent as it is", async () => {
        // Postgres text holds no NUL, so a name cannot be the placeholder itself (refused, naming the field)...
        const refused = await failureOf(api.sensors.update.mutate({ siteId, sensorId: spiky, name: "\u0000json:00000000-0000-0000-0000-000000000000:0" }));
        expect(refused.httpStatus).toBe(400);
        expect(refused.issues).toEqual([{ path: "name", message: "must not contain a NUL character (\\u0000)" }]);
        // ...only its text, which is left alone.
        const name = "\\u0000json:00000000-0000-0000-0000-000000000000:0";
        await api.sensors.update.mutate({ siteId, sensorId: spiky, name });
        const res = await api.analytics.series.query({ siteId, sensorIds: [spiky], ...range(), bucket: "1d" });
        expect(res.series[0]!.name).toBe(name);
        expect(res.series[0]!.buckets.count.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      });
    });

    describe("latest values", () => {
      test("every sensor's latest value with its age; stale past two report intervals; filtered by plant", async () => {
        const site = await api.sites.create.mutate({ name: "Latest", timezone: "UTC" });
        const { device, token: dt } = await newDevice(site.id, "fresh");
        await api.devices.update.mutate({ siteId: site.id, deviceId: device.id, expectedReportIntervalSeconds: 300 });
        await postReadings(server, dt, [
          { sensor: "soil1", ts: NOW - 30 * MINUTE, value: 50 },
          { sensor: "soil1", ts: NOW - 2 * MINUTE, value: 41.5 },
          { sensor: "soil1", ts: NOW - 10 * MINUTE, value: 44 }, // late, older: not the latest
          { sensor: "temp", ts: NOW - 20 * MINUTE, value: 7 },
        ]);
        // A device that reports hourly: the same 20-minute-old reading is fresh there.
        const { device: slow, token: st } = await newDevice(site.id, "slow");
        await api.devices.update.mutate({ siteId: site.id, deviceId: slow.id, expectedReportIntervalSeconds: 3600 });
        await postReadings(server, st, [{ sensor: "lux", ts: NOW - 20 * MINUTE, value: 900 }]);
        const quiet = await api.sensors.create.mutate({ siteId: site.id, deviceId: device.id, key: "hum", metric: "humidity" });
        const ids = await sensorsOf(site.id, device.id);
        const res = await api.analytics.latest.query({ siteId: site.id, withSensors: true });
        // Columns of equal length, entry i of each about the same sensor.
        expect(Object.values(res.values).map((column) => column.length)).toEqual([4, 4, 4, 4, 4]);
        expect(Object.values(res.sensors!).map((column) => column.length)).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
        const sensorRows = rowsOf(res.sensors!);
        const byKey = Object.fromEntries(rowsOf(res.values).map((value, i) => [sensorRows[i]!.key, { ...value, sensor: sensorRows[i]! }]));
        expect(byKey.soil1).toMatchObject({ sensorId: ids.soil1, value: 41.5, ageSeconds: 120, stale: false, sensor: { deviceId: device.id, deviceName: "fresh", unit: "%", metric: "soil_moisture", expectedReportIntervalSeconds: 300, plantId: null } });
        expect(byKey.soil1!.ts!).toBe(NOW - 2 * MINUTE);
        expect(byKey.temp).toMatchObject({ sensorId: ids.temp, value: 7, ageSeconds: 1200, stale: true });
        expect(byKey.lux).toMatchObject({ value: 900, ageSeconds: 1200, stale: false, sensor: { deviceId: slow.id, expectedReportIntervalSeconds: 3600 } });
        expect(byKey.hum).toEqual({ sensorId: quiet.id, value: null, ts: null, ageSeconds: null, stale: true, sensor: expect.objectContaining({ key: "hum", metric: "humidity" }) });

        // Without withSensors: the same values, and nothing about the sensors beyond their ids.
        const lean = await api.analytics.latest.query({ siteId: site.id });
        expect(lean).toEqual({ at: res.at, values: res.values });

        const plant = await api.plants.create.mutate({ siteId: site.id, name: "Basil" });
        await api.sensors.assign.mutate({ siteId: site.id, sensorId: ids.soil1!, plantId: plant.id });
        const forPlant = await api.analytics.latest.query({ siteId: site.id, plantIds: [plant.id], withSensors: true });
        expect(forPlant.values.sensorId).toEqual([ids.soil1!]);
        expect(forPlant.sensors).toMatchObject({ key: ["soil1"], plantId: [plant.id] });
        // The whole site's sensor columns are kept a few seconds, but a change made here shows at once.
        const again = await api.analytics.latest.query({ siteId: site.id, withSensors: true });
        expect(again.sensors!.plantId[again.values.sensorId.indexOf(ids.soil1!)]).toBe(plant.id);
      });
    });

    describe("sensors without readings", () => {
      test("a site whose sensors never reported: empty buckets and points, no latest value, every one stale", async () => {
        const site = await api.sites.create.mutate({ name: "Quiet", timezone: "UTC" });
        const { device } = await newDevice(site.id, "unplugged");
        const soil = await api.sensors.create.mutate({ siteId: site.id, deviceId: device.id, key: "soil1", metric: "soil_moisture" });
        const from = new Date(NOW - DAY);
        const to = new Date(NOW);
        const series = await api.analytics.series.query({ siteId: site.id, sensorIds: [soil.id], from, to, bucket: "1h", percentiles: true });
        expect(series.series.map((s) => ({ sensorId: s.sensorId, buckets: s.buckets }))).toEqual([
          { sensorId: soil.id, buckets: { t: [], avg: [], min: [], max: [], count: [], last: [], p50: [], p90: [] } },
        ]);
        const chart = await api.analytics.chart.query({ siteId: site.id, sensorIds: [soil.id], from, to, points: 100 });
        expect(chart.series.map((s) => s.points)).toEqual([{ t: [], v: [] }]);
        const latest = await api.analytics.latest.query({ siteId: site.id });
        expect(latest.values).toEqual({ sensorId: [soil.id], value: [null], ts: [null], ageSeconds: [null], stale: [true] });
        const health = await api.analytics.deviceHealth.query({ siteId: site.id });
        expect(health.silent.map((s) => s.sensorId)).toEqual([soil.id]);
      });
    });

    describe("access scoping and validation", () => {
      let stranger: ReturnType<TestServer["client"]>;
      let strangerSite: string;
      let strangerSensor: string;
      let strangerPlant: string;
      beforeAll(async () => {
        const other = await server.client().auth.register.mutate({ email: `stranger-${engine}@example.com`, password: PASSWORD, displayName: "S", client: "app" });
        stranger = server.client(other.token!);
        strangerSite = other.personalSiteId;
        const { device, token: dt } = await newDevice(strangerSite, "theirs", stranger);
        await postReadings(server, dt, [{ sensor: "temp", ts: NOW - HOUR, value: 99 }]);
        strangerSensor = (await sensorsOf(strangerSite, device.id, stranger)).temp!;
        strangerPlant = (await stranger.plants.create.mutate({ siteId: strangerSite, name: "Theirs" })).id;
      });

      test("another site's sensor or plant is not found, even next to one's own", async () => {
        const range = { from: new Date(T0), to: new Date(T1) };
        const foreign = await failureOf(api.analytics.series.query({ siteId, sensorIds: [sensorId.temp!, strangerSensor], ...range }));
        expect(foreign).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "sensorIds" }] });
        const chart = await failureOf(api.analytics.chart.query({ siteId, sensorIds: [strangerSensor], ...range }));
        expect(chart).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "sensorIds" }] });
        const plant = await failureOf(api.analytics.series.query({ siteId, plantId: strangerPlant, metric: "temperature", ...range }));
        expect(plant).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "plantId" }] });
        const metrics = await failureOf(api.analytics.plantMetrics.query({ siteId, plantId: strangerPlant, ...range }));
        expect(metrics).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "plantId" }] });
        const mine = await api.plants.create.mutate({ siteId, name: "Mine" });
        const latest = await failureOf(api.analytics.latest.query({ siteId, plantIds: [mine.id, strangerPlant] }));
        expect(latest).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "plantIds" }] });
        const exported = await fetch(`${server.url}/v1/export?${new URLSearchParams({ siteId, plantId: strangerPlant, from: String(T0), to: String(T1) })}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(exported.status).toBe(404);
        expect(await exported.json()).toMatchObject({ details: { path: "plantId" } });
      });

      test("another site's analytics are not found; one's own latest values never include other sites' sensors", async () => {
        expect(await failureOf(stranger.analytics.latest.query({ siteId }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "siteId" }] });
        expect(await failureOf(stranger.analytics.fleet.query({ siteId }))).toMatchObject({ code: "NOT_FOUND" });
        const mine = await api.analytics.latest.query({ siteId });
        const listed = (await api.sensors.list.query({ siteId, limit: 100 })).items.map((s) => s.id).sort();
        expect([...mine.values.sensorId].sort()).toEqual(listed);
        expect(mine.values.value).not.toContain(99);
      });

      test("invalid ranges and sizes are refused, naming the field", async () => {
        const base = { siteId, sensorIds: [sensorId.temp!] };
        const cases: [unknown, string][] = [
          [{ ...base, from: new Date(T1), to: new Date(T0) }, "to"],
          [{ ...base, from: new Date(T0), to: new Date(T0 + 30 * DAY), bucket: "1m" }, "bucket"],
          [{ ...base, from: new Date(NOW - 450 * DAY), to: new Date(NOW), bucket: "1d", percentiles: true }, "percentiles"],
          [{ ...base, from: new Date(NOW - 4 * 365 * DAY), to: new Date(NOW), maxPoints: 2 }, "maxPoints"],
          [{ ...base, plantId: strangerPlant, metric: "temperature", from: new Date(T0), to: new Date(T1) }, "plantId"],
          [{ siteId, plantId: strangerPlant, from: new Date(T0), to: new Date(T1) }, "metric"],
          [{ siteId, sensorIds: [], from: new Date(T0), to: new Date(T1) }, "sensorIds"],
          [{ ...base, from: new Date(NOW - 6 * 366 * DAY), to: new Date(NOW) }, "to"],
          [{ ...base, from: new Date(T0), to: new Date(T1), bucket: "2h" }, "bucket"],
        ];
        for (const [input, path] of cases) {
          const failure = await failureOf(api.analytics.series.query(input as never));
          expect({ path, code: failure.code, paths: failure.issues.map((i) => i.path) }).toMatchObject({ path, code: "BAD_REQUEST", paths: expect.arrayContaining([path]) });
        }
        const chart = await failureOf(api.analytics.chart.query({ ...base, from: new Date(T0), to: new Date(T1), points: 2 }));
        expect(chart.issues.map((i) => i.path)).toEqual(["points"]);
      });
    });

    describe("export", () => {
      const url = (params: Record<string, string>) => `${server.url}/v1/export?${new URLSearchParams(params)}`;

      test("CSV of raw readings in time order, authenticated by the bearer session token", async () => {
        const response = await fetch(url({ siteId, sensorIds: sensorId.temp!, from: String(T0), to: new Date(T1).toISOString() }), { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toContain("text/csv");
        expect(response.headers.get("content-disposition")).toContain("attachment");
        const lines = (await response.text()).trimEnd().split("\n");
        expect(lines[0]).toBe("time,sensor_id,device,sensor,metric,unit,plant_id,value,raw_value");
        expect(lines).toHaveLength(temp.length + 1);
        // Each reading names the plant it was taken for: the sensor's first plant (an earlier test
        // assigned it, then unassigned it) holds the readings from before its first assignment.
        const history = await api.sensors.assignmentHistory.query({ siteId, sensorId: sensorId.temp! });
        const plantId = history.at(-1)?.plantId ?? "";
        for (const [i, r] of temp.entries()) {
          expect(lines[i + 1]).toBe(`${new Date(r.ts).toISOString()},${sensorId.temp},hub,temp,temperature,°C,${plantId},${r.value},${r.value}`);
        }
      });

      test("NDJSON with the browser's session cookie; a range narrower than the data", async () => {
        const login = await fetch(`${server.url}/trpc/auth.login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ json: { email: `analytics-${engine}@example.com`, password: PASSWORD, client: "web" } }),
        });
        const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
        const from = T0 + 5 * HOUR;
        const to = T0 + 7 * HOUR;
        const response = await fetch(url({ siteId, sensorIds: sensorId.temp!, from: String(from), to: String(to), format: "ndjson" }), { headers: { cookie } });
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toContain("application/x-ndjson");
        const rows = (await response.text()).trimEnd().split("\n").map((l) => JSON.parse(l) as { ts: number; value: number; sensorId: string; metric: string });
        const expected = temp.filter((r) => r.ts >= from && r.ts < to);
        expect(rows.map((r) => [r.ts, r.value])).toEqual(expected.map((r) => [r.ts, r.value]));
        expect(rows[0]).toMatchObject({ sensorId: sensorId.temp, metric: "temperature", device: "hub", sensor: "temp" });
      });

      test("without a session 401, another site 404, a bad query 400 naming the field", async () => {
        const params = { siteId, from: String(T0), to: String(T1) };
        expect((await fetch(url(params))).status).toBe(401);
        const other = await server.client().auth.register.mutate({ email: `export-${engine}@example.com`, password: PASSWORD, displayName: "E", client: "app" });
        expect((await fetch(url(params), { headers: { authorization: `Bearer ${other.token}` } })).status).toBe(404);
        const bad = await fetch(url({ ...params, from: "yesterday" }), { headers: { authorization: `Bearer ${token}` } });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { details: { issues: { path: string }[] } }).details.issues.map((i) => i.path)).toEqual(["from"]);
      });

      test("the range is walked in pages of bounded size: every reading once, in order", async () => {
        const query = exportQuery.parse({ siteId, from: String(T0), to: String(T1), format: "ndjson" });
        const sensors = [
          { id: sensorId.temp!, deviceId: "d", deviceName: "hub", key: "temp", name: null, label: "temp", metric: "temperature", unit: "°C", plantId: null, calibration: null, expectedReportIntervalSeconds: 300, createdAt: new Date(0), assignments: [], pastMetrics: [] },
        ];
        let largestChunk = 0;
        const ts: number[] = [];
        for await (const chunk of exportChunks({ ch: server.stores.clickhouse }, sensors, query, 100)) {
          const lines = chunk.trimEnd().split("\n");
          largestChunk = Math.max(largestChunk, lines.length);
          for (const l of lines) ts.push((JSON.parse(l) as { ts: number }).ts);
        }
        expect(largestChunk).toBeLessThanOrEqual(100);
        expect(ts).toEqual(temp.map((r) => r.ts));
      });
    });
  });
}
