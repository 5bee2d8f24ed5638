import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { queryRows } from "../clickhouse/client";
import { sensorCalibrations, sensors } from "../db/schema";
import { MAX_ABS_VALUE } from "../shared/values";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

/**
 * No reading is stored that is not a finite number within ±1e15, raw or calibrated: calibrations
 * that could overflow or are degenerate are refused on the field at fault, and ingest refuses a
 * batch with such a value, naming the reading, storing nothing. Rollups of the largest values
 * stay finite.
 */

const PASSWORD = "correct horse battery";
const HOUR = 3_600_000;

for (const engine of postgresEngines) {
  describe(`value bounds on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    let deviceId: string;
    let deviceToken: string;

    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: `bounds-${engine}@example.com`, password: PASSWORD, displayName: "B", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
      const provisioned = await api.devices.provision.mutate({ siteId, name: "probe" });
      deviceId = provisioned.device.id;
      deviceToken = provisioned.token;
    });
    afterAll(() => server.close());

    const ingest = (batchId: string, readings: { sensor: string; value: number; ts?: number }[]) =>
      fetch(`${server.url}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
        body: JSON.stringify({ batchId, readings }),
      });
    const storedCount = async (sensorId: string) => {
      await server.settled();
      const ch = server.stores.clickhouse;
      const [row] = await queryRows<{ n: number | string }>(ch, `SELECT count() AS n FROM ${ch.database}.readings WHERE sensor_id = {s:UUID}`, { s: sensorId });
      return Number(row!.n);
    };

    test("calibrations that overflow or are degenerate are refused on the field at fault, and change nothing", async () => {
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key: "cal1", metric: "soil_moisture" });
      const cases: [Record<string, number>, string][] = [
        // The probe's calibration: raw 1e10 would become infinity.
        [{ rawLow: 0, valueLow: 0, rawHigh: 5e-324, valueHigh: 1e308 }, "valueHigh"],
        [{ rawLow: 0, valueLow: 0, rawHigh: 5e-324, valueHigh: 100 }, "rawHigh"],
        [{ rawLow: 1000, valueLow: 0, rawHigh: 1000.0000001, valueHigh: 100 }, "rawHigh"],
        [{ rawLow: 0, valueLow: 0, rawHigh: 1, valueHigh: 1e7 }, "valueHigh"],
        [{ rawLow: 0, valueLow: 5, rawHigh: 10, valueHigh: 5 }, "valueHigh"],
        [{ rawLow: 1e16, valueLow: 0, rawHigh: 0, valueHigh: 100 }, "rawLow"],
        [{ rawLow: 0, valueLow: -2e15, rawHigh: 4000, valueHigh: 100 }, "valueLow"],
      ];
      for (const [points, field] of cases) {
        const failure = await failureOf(api.sensors.setCalibration.mutate({ siteId, sensorId: sensor.id, rawLow: 0, valueLow: 0, rawHigh: 0, valueHigh: 0, ...points }));
        expect({ points, code: failure.code, fields: failure.issues.map((i) => i.path) }).toEqual({ points, code: "BAD_REQUEST", fields: expect.arrayContaining([field]) });
      }
      expect((await api.sensors.get.query({ siteId, sensorId: sensor.id })).calibration).toBeNull();
      expect(await server.stores.db.select().from(sensorCalibrations).where(eq(sensorCalibrations.sensorId, sensor.id))).toEqual([]);
      // A sane calibration still goes through, and so does a steep but reasonable one (volts to %).
      await api.sensors.setCalibration.mutate({ siteId, sensorId: sensor.id, rawLow: 3100, valueLow: 0, rawHigh: 1400, valueHigh: 100 });
      await api.sensors.setCalibration.mutate({ siteId, sensorId: sensor.id, rawLow: 1.1, valueLow: 0, rawHigh: 2.6, valueHigh: 100 });
      expect(await failureOf(api.sensors.previewCalibration.query({ siteId, sensorId: sensor.id, raw: 1e300 }))).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "raw" }] });
    });

    test("a raw value beyond ±1e15 is refused with its index; nothing of the batch is stored", async () => {
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key: "huge", metric: "light" });
      const response = await ingest("huge-1", [
        { sensor: "huge", value: 12 },
        { sensor: "huge", value: 1.79e308 },
        { sensor: "huge", value: -2e15 },
      ]);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { details: { accepted: number; rejected: { index: number; reason: string }[] } };
      expect(body.details.accepted).toBe(0);
      expect(body.details.rejected).toEqual([
        { index: 1, reason: "value must be within ±1e15" },
        { index: 2, reason: "value must be within ±1e15" },
      ]);
      expect(await storedCount(sensor.id)).toBe(0);
    });

    test("a reading whose calibrated value is not finite is refused with its index and the reason; nothing is stored", async () => {
      // A calibration from before calibrations were checked, as it may sit in a database today.
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key: "legacy", metric: "soil_moisture" });
      await server.stores.db
        .update(sensors)
        .set({ calibrationRawLow: 0, calibrationValueLow: 0, calibrationRawHigh: 5e-324, calibrationValueHigh: 1e308 })
        .where(eq(sensors.id, sensor.id));
      const response = await ingest("legacy-1", [
        { sensor: "legacy", value: 0 },
        { sensor: "legacy", value: 1e10 },
      ]);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string; details: { accepted: number; rejected: { index: number; reason: string }[] } };
      expect(body.details.accepted).toBe(0);
      expect(body.details.rejected).toEqual([{ index: 1, reason: expect.stringContaining("calibrated value Infinity is not finite or beyond ±1e15") }]);
      expect(await storedCount(sensor.id)).toBe(0);
    });

    test("rollups of the largest accepted values stay finite: the hourly average of ±1e15 readings is a number", async () => {
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key: "edge", metric: "light" });
      const hour = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
      const readings = Array.from({ length: 2000 }, (_, i) => ({ sensor: "edge", value: MAX_ABS_VALUE, ts: hour + i * 1000 }));
      expect((await ingest("edge-1", readings)).status).toBe(200);
      await server.settled();
      const res = await api.analytics.series.query({ siteId, sensorIds: [sensor.id], from: new Date(hour), to: new Date(hour + HOUR), bucket: "1h" });
      expect(res.source).toBe("1h");
      const buckets = res.series[0]!.buckets;
      expect(buckets.avg).toEqual([MAX_ABS_VALUE]);
      expect(buckets.max).toEqual([MAX_ABS_VALUE]);
      expect(buckets.count).toEqual([2000]);
    });
  });
}
