import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { sensorCalibrations, sensors } from "../db/schema";
import { applyCalibration } from "../shared/metrics";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`devices, sensors and actuators on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    let deviceId: string;
    let plantId: string;
    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: "hw@example.com", password: PASSWORD, displayName: "H", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
      deviceId = (await api.devices.provision.mutate({ siteId, name: "balcony" })).device.id;
      plantId = (await api.plants.create.mutate({ siteId, name: "Tomato" })).id;
    });
    afterAll(() => server.close());

    test("a device's details are kept; a hardware id is unique within the site", async () => {
      const updated = await api.devices.update.mutate({
        siteId,
        deviceId,
        kind: "combined",
        hardwareId: "AA:BB:CC:DD:EE:01",
        firmware: "1.4.2",
        location: "balcony rail",
        expectedReportIntervalSeconds: 60,
      });
      expect(updated).toMatchObject({ kind: "combined", hardwareId: "AA:BB:CC:DD:EE:01", firmware: "1.4.2", location: "balcony rail", expectedReportIntervalSeconds: 60, lastSeenAt: null });
      expect((await api.devices.get.query({ siteId, deviceId })).firmware).toBe("1.4.2");
      const other = (await api.devices.provision.mutate({ siteId, name: "greenhouse" })).device.id;
      const clash = await failureOf(api.devices.update.mutate({ siteId, deviceId: other, hardwareId: "AA:BB:CC:DD:EE:01" }));
      expect(clash).toMatchObject({ code: "CONFLICT", issues: [{ path: "hardwareId" }] });
      const bad = await failureOf(api.devices.update.mutate({ siteId, deviceId, expectedReportIntervalSeconds: 0 }));
      expect(bad).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "expectedReportIntervalSeconds" }] });
    });

    test("a sensor created by hand takes its metric's unit, and is assigned to and unassigned from a plant", async () => {
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key: "soil1", metric: "soil_moisture" });
      expect(sensor).toMatchObject({ key: "soil1", metric: "soil_moisture", unit: "%", plantId: null, calibration: null });
      const assigned = await api.sensors.assign.mutate({ siteId, sensorId: sensor.id, plantId });
      expect(assigned.plantId).toBe(plantId);
      expect((await api.plants.get.query({ siteId, plantId })).sensors.map((s) => s.key)).toEqual(["soil1"]);
      expect((await api.sensors.list.query({ siteId, plantId })).items.map((s) => s.id)).toEqual([sensor.id]);
      const renamed = await api.sensors.update.mutate({ siteId, sensorId: sensor.id, name: "left pot", metric: "temperature" });
      expect(renamed).toMatchObject({ name: "left pot", metric: "temperature", unit: "°C" });
      expect((await api.sensors.unassign.mutate({ siteId, sensorId: sensor.id })).plantId).toBeNull();
      const duplicate = await failureOf(api.sensors.create.mutate({ siteId, deviceId, key: "soil1", metric: "soil_moisture" }));
      expect(duplicate).toMatchObject({ code: "CONFLICT", issues: [{ path: "key" }] });
      const badMetric = await failureOf(api.sensors.create.mutate({ siteId, deviceId, key: "x1", metric: "radiation" }));
      expect(badMetric).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "metric" }] });
    });

    test("a two-point calibration turns raw readings into values, and every change is kept in its history", async () => {
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key: "soil2", metric: "soil_moisture" });
      expect(await api.sensors.previewCalibration.query({ siteId, sensorId: sensor.id, raw: 2250 })).toEqual({ raw: 2250, value: 2250, unit: "%", calibrated: false });
      // Capacitive probes read high when dry: 3100 in air (0 %), 1400 in water (100 %).
      const calibrated = await api.sensors.setCalibration.mutate({ siteId, sensorId: sensor.id, rawLow: 3100, valueLow: 0, rawHigh: 1400, valueHigh: 100 });
      expect(calibrated.calibration).toEqual({ rawLow: 3100, valueLow: 0, rawHigh: 1400, valueHigh: 100 });
      expect(await api.sensors.previewCalibration.query({ siteId, sensorId: sensor.id, raw: 2250 })).toEqual({ raw: 2250, value: 50, unit: "%", calibrated: true });
      expect(applyCalibration(1400, calibrated.calibration)).toBe(100);
      await api.sensors.setCalibration.mutate({ siteId, sensorId: sensor.id, rawLow: 3000, valueLow: 0, rawHigh: 1500, valueHigh: 100 });
      await api.sensors.clearCalibration.mutate({ siteId, sensorId: sensor.id });
      const history = await api.sensors.calibrationHistory.query({ siteId, sensorId: sensor.id });
      expect(history.map((h) => h.calibration?.rawLow ?? null)).toEqual([null, 3000, 3100]);
      expect(history.every((h) => h.changedBy !== null && h.changedAt instanceof Date)).toBe(true);
      expect((await api.sensors.get.query({ siteId, sensorId: sensor.id })).calibration).toBeNull();
    });

    test("a calibration with equal raw points is refused on rawHigh and changes nothing", async () => {
      const sensor = await api.sensors.create.mutate({ siteId, deviceId, key: "soil3", metric: "soil_moisture" });
      const failure = await failureOf(api.sensors.setCalibration.mutate({ siteId, sensorId: sensor.id, rawLow: 2000, valueLow: 0, rawHigh: 2000, valueHigh: 100 }));
      expect(failure).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "rawHigh", message: "must differ from rawLow" }] });
      const [row] = await server.stores.db.select({ n: count() }).from(sensorCalibrations).where(eq(sensorCalibrations.sensorId, sensor.id));
      expect(row!.n).toBe(0);
      const [stored] = await server.stores.db.select().from(sensors).where(eq(sensors.id, sensor.id));
      expect(stored!.calibrationRawLow).toBeNull();
    });

    test("pumps carry a flow rate and a maximum run time (60 s unless set); lamps and relays have neither", async () => {
      const pump = await api.actuators.create.mutate({ siteId, deviceId, key: "pump1", kind: "pump", flowRateMlPerSecond: 12.5, plantId });
      expect(pump).toMatchObject({ kind: "pump", flowRateMlPerSecond: 12.5, maxRunSeconds: 60, plantId });
      expect((await api.actuators.update.mutate({ siteId, actuatorId: pump.id, maxRunSeconds: 20 })).maxRunSeconds).toBe(20);
      const lamp = await api.actuators.create.mutate({ siteId, deviceId, key: "lamp1", kind: "lamp" });
      expect(lamp.maxRunSeconds).toBeNull();
      const refused = await failureOf(api.actuators.update.mutate({ siteId, actuatorId: lamp.id, flowRateMlPerSecond: 3 }));
      expect(refused).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "flowRateMlPerSecond" }] });
      expect((await api.actuators.assign.mutate({ siteId, actuatorId: lamp.id, plantId })).plantId).toBe(plantId);
      expect((await api.actuators.unassign.mutate({ siteId, actuatorId: lamp.id })).plantId).toBeNull();
      expect((await api.actuators.list.query({ siteId, deviceId })).items.map((a) => a.key)).toEqual(["pump1", "lamp1"]);
      expect((await api.actuators.get.query({ siteId, actuatorId: pump.id })).key).toBe("pump1");
      const negative = await failureOf(api.actuators.create.mutate({ siteId, deviceId, key: "pump2", kind: "pump", flowRateMlPerSecond: -1 }));
      expect(negative).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "flowRateMlPerSecond" }] });
    });

    test("sensors, actuators and plants of another site cannot be reached or combined", async () => {
      const r = await server.client().auth.register.mutate({ email: "hw-other@example.com", password: PASSWORD, displayName: "O", client: "app" });
      const other = server.client(r.token!);
      const otherSite = r.personalSiteId;
      const otherDevice = (await other.devices.provision.mutate({ siteId: otherSite, name: "theirs" })).device.id;
      const theirSensor = await other.sensors.create.mutate({ siteId: otherSite, deviceId: otherDevice, key: "t1", metric: "temperature" });
      const mySensor = await api.sensors.create.mutate({ siteId, deviceId, key: "t9", metric: "temperature" });
      expect(await failureOf(api.sensors.get.query({ siteId, sensorId: theirSensor.id }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "sensorId" }] });
      // My sensor onto their plant, their device under my site: not found, on the field that names it.
      const theirPlant = (await other.plants.create.mutate({ siteId: otherSite, name: "theirs" })).id;
      expect(await failureOf(api.sensors.assign.mutate({ siteId, sensorId: mySensor.id, plantId: theirPlant }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "plantId" }] });
      expect(await failureOf(api.sensors.create.mutate({ siteId, deviceId: otherDevice, key: "z", metric: "light" }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "deviceId" }] });
      expect(await failureOf(api.devices.update.mutate({ siteId, deviceId: otherDevice, firmware: "evil" }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "deviceId" }] });
      expect((await other.sensors.get.query({ siteId: otherSite, sensorId: theirSensor.id })).plantId).toBeNull();
    });
  });
}
