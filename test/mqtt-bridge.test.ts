import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { createConnection, createServer, type Server } from "node:net";
import type { MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { freePort, startMosquitto, type Mosquitto } from "./support/mosquitto";
import { connectClient, ownerOfSite, readingsOf, sensorCount, waitFor, type Api } from "./support/mqtt";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * The bridge to a user's broker, against a real Mosquitto started for the suite: the payloads
 * Zigbee2MQTT, Tasmota, OpenMQTTGateway and ESPHome publish land as readings of the bound device,
 * unbound topics are discovered and adopted, nothing published while Verdant is down is lost or
 * doubled, commands go out with the device's own stop timer, and an LWT raises "offline".
 */

for (const engine of postgresEngines) {
  describe(`MQTT bridge to Mosquitto on ${engine}`, () => {
    let broker: Mosquitto;
    let server: TestServer;
    let api: Api;
    let publisher: MqttClient;
    const siteId = randomUUID();

    beforeAll(async () => {
      broker = await startMosquitto();
      server = await startTestServer(engine, {
        mqtt: {
          bridge: { url: broker.url, username: undefined, password: undefined, clientId: `verdant-test-${randomUUID().slice(0, 8)}`, protocolVersion: 5, siteId },
          listen: null,
        },
      });
      api = await ownerOfSite(server, `bridge-${engine}@example.com`, siteId);
      await server.mqtt!.bridgeConnected;
      publisher = await connectClient(broker.url, { clientId: `publisher-${randomUUID().slice(0, 8)}` });
    });
    afterAll(async () => {
      await publisher?.endAsync();
      await server?.close();
      await broker?.stop();
    });

    const device = async (name: string) => (await api.devices.provision.mutate({ siteId, name })).device.id;
    const publish = (topic: string, payload: string | object, retain = false) =>
      publisher.publishAsync(topic, typeof payload === "string" ? payload : JSON.stringify(payload), { qos: 1, retain });

    test("Zigbee2MQTT soil sensors land as readings of the bound device, link quality ignored", async () => {
      const soil = await device("Monstera soil sensor");
      await api.mqtt.bind.mutate({ siteId, deviceId: soil, preset: "zigbee2mqtt", base: "Monstera soil" });
      // A Tuya TS0601_soil as Zigbee2MQTT publishes it.
      await publish("zigbee2mqtt/Monstera soil", { battery: 100, linkquality: 156, soil_moisture: 42, temperature: 21.4, temperature_unit: "celsius" });
      const readings = await waitFor("the soil sensor's readings", async () => {
        const r = await readingsOf(server, soil);
        return r.length >= 3 ? r : undefined;
      });
      expect(readings.map((r) => [r.key, r.metric, r.value])).toEqual([
        ["battery", "battery", 100],
        ["soil_moisture", "soil_moisture", 42],
        ["temperature", "temperature", 21.4],
      ]);
      // Through the API as a dashboard reads it.
      const latest = await api.analytics.latest.query({ siteId, withSensors: true });
      expect(JSON.stringify(latest)).toContain("soil_moisture");

      // An Aqara illuminance sensor from before Zigbee2MQTT 2.0: `illuminance` raw beside `illuminance_lux`.
      const light = await device("Window light");
      await api.mqtt.bind.mutate({ siteId, deviceId: light, preset: "zigbee2mqtt", base: "Window light" });
      await publish("zigbee2mqtt/Window light", { battery: 97, illuminance: 28152, illuminance_lux: 653, linkquality: 87, occupancy: false, voltage: 3005 });
      const lux = await waitFor("the light readings", async () => {
        const r = await readingsOf(server, light);
        return r.length >= 3 ? r : undefined;
      });
      expect(lux.map((r) => [r.key, r.metric, r.value])).toEqual([
        ["battery", "battery", 97],
        ["illuminance", "unknown", 28152],
        ["illuminance_lux", "light", 653],
      ]);
    });

    test("Tasmota SENSOR telemetry lands with nested sensors flattened and Fahrenheit converted", async () => {
      const board = await device("Greenhouse Tasmota");
      await api.mqtt.bind.mutate({ siteId, deviceId: board, preset: "tasmota", base: "tasmota_5C1A2B" });
      await publish("tele/tasmota_5C1A2B/SENSOR", {
        Time: "2024-05-01T12:00:00",
        BME280: { Temperature: 73.4, Humidity: 45.6, DewPoint: 51.1, Pressure: 1013.2 },
        ANALOG: { A0: 512 },
        PressureUnit: "hPa",
        TempUnit: "F",
      });
      const readings = await waitFor("the Tasmota readings", async () => {
        const r = await readingsOf(server, board);
        return r.length >= 5 ? r : undefined;
      });
      expect(readings.map((r) => [r.key, r.metric, r.value])).toEqual([
        ["ANALOG.A0", "unknown", 512],
        ["BME280.DewPoint", "unknown", 10.611],
        ["BME280.Humidity", "humidity", 45.6],
        ["BME280.Pressure", "unknown", 1013.2],
        ["BME280.Temperature", "temperature", 23],
      ]);
    });

    test("a MiFlora seen by an OpenMQTTGateway lands by its MAC, fertility in mS/cm", async () => {
      const flora = await device("Ficus MiFlora");
      await api.mqtt.bind.mutate({ siteId, deviceId: flora, preset: "omg", base: "C4:7C:8D:6A:1B:2C" });
      await publish("home/OMG_ESP32_BLE/BTtoMQTT/C47C8D6A1B2C", {
        id: "C4:7C:8D:6A:1B:2C",
        name: "Flower care",
        rssi: -74,
        brand: "Xiaomi/VegTrug",
        model: "MiFlora",
        model_id: "HHCCJCY01",
        type: "PLANT",
        tempc: 21.3,
        tempf: 70.34,
        moi: 38,
        lux: 1523,
        fer: 462,
      });
      const readings = await waitFor("the MiFlora readings", async () => {
        const r = await readingsOf(server, flora);
        return r.length >= 4 ? r : undefined;
      });
      expect(readings.map((r) => [r.key, r.metric, r.value])).toEqual([
        ["fer", "ec", 0.462],
        ["lux", "light", 1523],
        ["moi", "soil_moisture", 38],
        ["tempc", "temperature", 21.3],
      ]);
    });

    test("ESPHome plain-number states land under their object ids", async () => {
      const node = await device("plant-node");
      await api.mqtt.bind.mutate({ siteId, deviceId: node, preset: "esphome", base: "plant-node" });
      await publish("plant-node/status", "online", true);
      await publish("plant-node/sensor/soil_moisture/state", "41.5");
      await publish("plant-node/sensor/temperature/state", "22.125");
      await publish("plant-node/sensor/broken/state", "nan");
      const readings = await waitFor("the ESPHome readings", async () => {
        const r = await readingsOf(server, node);
        return r.length >= 2 ? r : undefined;
      });
      expect(readings.map((r) => [r.key, r.metric, r.value])).toEqual([
        ["soil_moisture", "soil_moisture", 41.5],
        ["temperature", "temperature", 22.125],
      ]);
    });

    test("a generic binding maps a topic pattern and JSON paths to sensors", async () => {
      const custom = await device("DIY node");
      await api.mqtt.bind.mutate({
        siteId,
        deviceId: custom,
        preset: "generic",
        base: "garden/diy/#",
        mapping: { fields: [{ path: "sensors.soil.raw", sensor: "soil", metric: "soil_moisture", scale: 0.1 }], timePath: "ts" },
      });
      // A new pattern is a new subscription: the broker keeps nothing published before it.
      await server.mqtt!.refresh(siteId);
      const ts = Date.now() - 60_000;
      await publish("garden/diy/state", { ts, sensors: { soil: { raw: 385 } }, rssi: -60 });
      await publish("garden/diy/lux", "1200");
      const readings = await waitFor("the generic readings", async () => {
        const r = await readingsOf(server, custom);
        return r.length >= 2 ? r : undefined;
      });
      expect(readings.map((r) => [r.key, r.metric, r.value])).toEqual([
        ["lux", "light", 1200],
        ["soil", "soil_moisture", 38.5],
      ]);
      expect(readings.find((r) => r.key === "soil")!.ts).toBe(ts);
    });

    test("an unbound topic is discovered, not stored, and adopting it binds it", async () => {
      const before = await sensorCount(server, siteId);
      await publish("zigbee2mqtt/Basil", { battery: 88, linkquality: 40, soil_moisture: 30, temperature: 19.5 });
      const found = await waitFor("the discovered topic", async () => (await api.mqtt.discovered.query({ siteId })).find((d) => d.base === "Basil"));
      expect(found).toMatchObject({ preset: "zigbee2mqtt", prefix: "zigbee2mqtt", topic: "zigbee2mqtt/Basil", messages: 1 });
      expect(JSON.parse(found.sample)).toMatchObject({ soil_moisture: 30 });
      expect(await sensorCount(server, siteId)).toBe(before);
      // Bridge topics are no device.
      await publish("zigbee2mqtt/bridge/state", { state: "online" });

      const adopted = await api.mqtt.adopt.mutate({ siteId, discoveredId: found.id });
      expect(adopted.device.name).toBe("Basil");
      expect(adopted.binding).toMatchObject({ preset: "zigbee2mqtt", base: "Basil", deviceId: adopted.device.id });
      expect((await api.mqtt.discovered.query({ siteId })).some((d) => d.base === "Basil" || d.base === "bridge/state")).toBe(false);
      expect((await api.mqtt.bindings.query({ siteId, deviceId: adopted.device.id })).map((b) => b.base)).toEqual(["Basil"]);

      await publish("zigbee2mqtt/Basil", { battery: 88, linkquality: 40, soil_moisture: 31, temperature: 19.6 });
      const readings = await waitFor("the adopted device's readings", async () => {
        const r = await readingsOf(server, adopted.device.id);
        return r.length >= 3 ? r : undefined;
      });
      expect(readings.find((r) => r.key === "soil_moisture")!.value).toBe(31);
    });

    test("messages published while Verdant is down are stored exactly once after it comes back", async () => {
      const node = await device("away node");
      const soil = await device("away soil");
      await api.mqtt.bind.mutate({ siteId, deviceId: node, preset: "esphome", base: "away-node" });
      await api.mqtt.bind.mutate({ siteId, deviceId: soil, preset: "zigbee2mqtt", base: "Away soil" });
      // ESPHome retains its states: the broker sends this one again to every new subscription.
      await publish("away-node/sensor/humidity/state", "61", true);
      await waitFor("the retained state, live", async () => ((await readingsOf(server, node)).length >= 1 ? true : undefined));
      await server.mqtt!.stop();
      // Verdant is down; the broker keeps these for its session.
      const lastSeen = Date.now() - 30_000;
      await publish("away-node/sensor/soil_moisture/state", "33");
      await publish("away-node/sensor/soil_moisture/state", "33");
      await publish("zigbee2mqtt/Away soil", { soil_moisture: 27, linkquality: 90, last_seen: lastSeen });
      await server.restart();
      await server.mqtt!.bridgeConnected;
      const node1 = await waitFor("the readings sent while down", async () => {
        const r = (await readingsOf(server, node)).filter((x) => x.key === "soil_moisture");
        return r.length >= 2 ? r : undefined;
      });
      const soil1 = await waitFor("the Zigbee2MQTT reading", async () => {
        const r = await readingsOf(server, soil);
        return r.length >= 1 ? r : undefined;
      });
      // The same value twice is two messages (ESPHome sends every period), stored twice.
      expect(node1.map((r) => r.value)).toEqual([33, 33]);
      expect(soil1).toEqual([{ key: "soil_moisture", metric: "soil_moisture", ts: lastSeen, value: 27 }]);

      // The same timestamped message again (a device publishing it twice): recognised, not stored again.
      await publish("zigbee2mqtt/Away soil", { soil_moisture: 27, linkquality: 90, last_seen: lastSeen });
      await publish("away-node/sensor/soil_moisture/state", "34");
      await waitFor("the next reading", async () => ((await readingsOf(server, node)).length >= 4 ? true : undefined));
      expect(await readingsOf(server, soil)).toEqual(soil1);
      expect((await readingsOf(server, node)).filter((x) => x.key === "humidity").map((x) => x.value)).toEqual([61]);
    });

    test("a pump command reaches Tasmota with its pulse time and follows the device's report", async () => {
      const pumpBoard = await device("Pump board");
      await api.mqtt.bind.mutate({ siteId, deviceId: pumpBoard, preset: "tasmota", base: "tasmota_pump" });
      const pump = await api.actuators.create.mutate({ siteId, deviceId: pumpBoard, key: "pump1", kind: "pump", maxRunSeconds: 60, flowRateMlPerSecond: 5 });
      const lamp = await api.actuators.create.mutate({ siteId, deviceId: pumpBoard, key: "lamp2", kind: "lamp" });
      const tasmota = await connectClient(broker.url, { clientId: "tasmota_pump" });
      const received: { topic: string; payload: string }[] = [];
      tasmota.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
      await tasmota.subscribeAsync("cmnd/tasmota_pump/#", { qos: 1 });
      try {
        const { command } = await api.commands.create.mutate({ siteId, actuatorId: pump.id, command: { action: "pump", seconds: 30 }, idempotencyKey: "pump-30s" });
        await waitFor("the pump command", () => received.length >= 1 || undefined);
        // 30 s is PulseTime 130 (seconds + 100): Tasmota switches the pump off by itself.
        expect(received).toEqual([{ topic: "cmnd/tasmota_pump/Backlog", payload: "PulseTime1 130;Power1 ON" }]);
        expect((await api.commands.get.query({ siteId, commandId: command.id })).status).toBe("sent");

        await tasmota.publishAsync("stat/tasmota_pump/RESULT", JSON.stringify({ POWER1: "ON" }), { qos: 1 });
        await tasmota.publishAsync("stat/tasmota_pump/POWER1", "ON", { qos: 1 });
        await waitFor("acknowledged", async () => (await api.commands.get.query({ siteId, commandId: command.id })).status === "acknowledged" || undefined);
        await tasmota.publishAsync("stat/tasmota_pump/POWER1", "OFF", { qos: 1 });
        const done = await waitFor("succeeded", async () => {
          const c = await api.commands.get.query({ siteId, commandId: command.id });
          return c.status === "succeeded" ? c : undefined;
        });
        expect(done.detail).toBe("device reported POWER1 OFF");

        // A short run is counted in tenths of a second; a plain "on" clears any pulse left behind.
        await api.commands.create.mutate({ siteId, actuatorId: pump.id, command: { action: "pump", seconds: 2.5 }, idempotencyKey: "pump-2.5s" });
        await api.commands.create.mutate({ siteId, actuatorId: lamp.id, command: { action: "switch", state: "on" }, idempotencyKey: "lamp-on" });
        await waitFor("two more commands", () => received.length >= 3 || undefined);
        expect(received.slice(1)).toEqual([
          { topic: "cmnd/tasmota_pump/Backlog", payload: "PulseTime1 25;Power1 ON" },
          { topic: "cmnd/tasmota_pump/Backlog", payload: "PulseTime2 0;Power2 ON" },
        ]);
      } finally {
        await tasmota.endAsync();
      }
    });

    test("a Zigbee2MQTT switch gets on_time and its state echo acknowledges the command", async () => {
      const plug = await device("Grow light plug");
      await api.mqtt.bind.mutate({ siteId, deviceId: plug, preset: "zigbee2mqtt", base: "Grow light" });
      const lamp = await api.actuators.create.mutate({ siteId, deviceId: plug, key: "state", kind: "lamp" });
      const z2m = await connectClient(broker.url, { clientId: "zigbee2mqtt-test" });
      const received: { topic: string; payload: string }[] = [];
      z2m.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
      await z2m.subscribeAsync("zigbee2mqtt/+/set", { qos: 1 });
      try {
        const { command } = await api.commands.create.mutate({ siteId, actuatorId: lamp.id, command: { action: "switch", state: "on", minutes: 2 }, idempotencyKey: "light-2min" });
        await waitFor("the set message", () => received.length >= 1 || undefined);
        expect(received[0]!.topic).toBe("zigbee2mqtt/Grow light/set");
        expect(JSON.parse(received[0]!.payload)).toEqual({ state: "ON", on_time: 120 });
        await z2m.publishAsync("zigbee2mqtt/Grow light", JSON.stringify({ state: "ON", linkquality: 120, power_on_behavior: "off" }), { qos: 1 });
        await waitFor("acknowledged", async () => (await api.commands.get.query({ siteId, commandId: command.id })).status === "acknowledged" || undefined);
        await z2m.publishAsync("zigbee2mqtt/Grow light", JSON.stringify({ state: "OFF", linkquality: 120 }), { qos: 1 });
        await waitFor("succeeded", async () => (await api.commands.get.query({ siteId, commandId: command.id })).status === "succeeded" || undefined);
      } finally {
        await z2m.endAsync();
      }
    });

    test("a Tasmota LWT Offline raises the offline alert at once, Online resolves it", async () => {
      const board = await device("Balcony Tasmota");
      await api.mqtt.bind.mutate({ siteId, deviceId: board, preset: "tasmota", base: "tasmota_balcony" });
      // Reports are expected hourly: staleness alone would take three hours.
      await api.devices.update.mutate({ siteId, deviceId: board, expectedReportIntervalSeconds: 3600 });
      await api.rules.create.mutate({
        siteId,
        name: "Balcony offline",
        kind: "offline",
        target: { type: "device", deviceId: board },
        actions: [{ type: "alert", severity: "warning", title: "{device} is offline" }],
      });
      await publish("tele/tasmota_balcony/LWT", "Online", true);
      await publish("tele/tasmota_balcony/SENSOR", { Time: "2024-05-01T12:00:00", AM2301: { Temperature: 18.2, Humidity: 60 }, TempUnit: "C" });
      await waitFor("the balcony reading", async () => ((await readingsOf(server, board)).length >= 2 ? true : undefined));
      await server.automation.idle();
      expect((await api.alerts.list.query({ siteId, status: "active" })).items.filter((a) => a.deviceId === board)).toEqual([]);

      // The broker publishes the will when the device drops off.
      await publish("tele/tasmota_balcony/LWT", "Offline", true);
      const alert = await waitFor("the offline alert", async () => {
        await server.automation.idle();
        return (await api.alerts.list.query({ siteId, status: "active" })).items.find((a) => a.deviceId === board);
      });
      expect(alert.title).toBe("Balcony Tasmota is offline");

      await publish("tele/tasmota_balcony/LWT", "Online", true);
      await waitFor("the alert resolved", async () => {
        await server.automation.idle();
        return (await api.alerts.get.query({ siteId, alertId: alert.id })).status === "resolved" || undefined;
      });
    });

    test("Zigbee2MQTT availability in both forms marks the device", async () => {
      const sensor = await device("Availability sensor");
      await api.mqtt.bind.mutate({ siteId, deviceId: sensor, preset: "zigbee2mqtt", base: "Shelf/soil" });
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Shelf offline",
        kind: "offline",
        target: { type: "device", deviceId: sensor },
        actions: [{ type: "alert", severity: "info", title: "{device} gone" }],
      });
      expect(rule.id).toBeString();
      await publish("zigbee2mqtt/Shelf/soil/availability", { state: "offline" }, true);
      const alert = await waitFor("offline from JSON availability", async () => {
        await server.automation.idle();
        return (await api.alerts.list.query({ siteId, status: "active" })).items.find((a) => a.deviceId === sensor);
      });
      await publish("zigbee2mqtt/Shelf/soil/availability", "online", true);
      await waitFor("online from text availability", async () => {
        await server.automation.idle();
        return (await api.alerts.get.query({ siteId, alertId: alert.id })).status === "resolved" || undefined;
      });
    });
  });
}

/**
 * A network fault between Verdant and the broker at the worst moment: the readings are durable,
 * the PUBACK is on its way, and the connection breaks before the broker has it. Mosquitto delivers
 * the message again (DUP) when the bridge is back; the delivery journal recognises it.
 */
class PubackCutter {
  #cut: (() => void) | undefined;
  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(upstreamPort: number): Promise<PubackCutter> {
    let cutter: PubackCutter | undefined;
    const server = createServer((down) => {
      const up = createConnection({ port: upstreamPort, host: "127.0.0.1" });
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      const close = () => {
        down.destroy();
        up.destroy();
      };
      up.on("error", close);
      down.on("error", close);
      up.on("close", close);
      down.on("close", close);
      up.on("data", (data) => down.write(data));
      parser.on("packet", (packet) => {
        const cut = cutter?.takeCut();
        if (packet.cmd === "puback" && cut) {
          cutter!.clearCut();
          close();
          cut();
          return;
        }
        up.write(mqttPacket.generate(packet, { protocolVersion: 5 }));
      });
      down.on("data", (data) => parser.parse(data as Buffer));
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    cutter = new PubackCutter(server, port);
    return cutter;
  }

  clearCut(): void {
    this.#cut = undefined;
  }

  /** The pending cut, if any. */
  takeCut(): (() => void) | undefined {
    return this.#cut;
  }

  /** Resolves when the next PUBACK from Verdant was swallowed and the connection cut. */
  cutNextPuback(): Promise<void> {
    return new Promise((resolve) => (this.#cut = resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

for (const engine of postgresEngines) {
  describe(`MQTT bridge across a lost PUBACK on ${engine}`, () => {
    test("a message made durable but not acknowledged is delivered again and stored once", async () => {
      const broker = await startMosquitto();
      const cutter = await PubackCutter.start(broker.port);
      const siteId = randomUUID();
      const server = await startTestServer(engine, {
        mqtt: { bridge: { url: `mqtt://127.0.0.1:${cutter.port}`, username: undefined, password: undefined, clientId: "verdant-cut", protocolVersion: 5, siteId }, listen: null },
      });
      const publisher = await connectClient(broker.url, { clientId: "cut-publisher" });
      try {
        const api = await ownerOfSite(server, `cut-${engine}@example.com`, siteId);
        await server.mqtt!.bridgeConnected;
        const { device } = await api.devices.provision.mutate({ siteId, name: "crash node" });
        await api.mqtt.bind.mutate({ siteId, deviceId: device.id, preset: "esphome", base: "crash-node" });

        const cut = cutter.cutNextPuback();
        await publisher.publishAsync("crash-node/sensor/soil_moisture/state", "50", { qos: 1 });
        await cut;
        // Durable before the PUBACK was sent: in ClickHouse once ingest flushed what it acknowledged.
        expect((await readingsOf(server, device.id)).map((r) => r.value)).toEqual([50]);

        // The bridge reconnects; the broker sends "50" again (DUP), then "51".
        await publisher.publishAsync("crash-node/sensor/soil_moisture/state", "51", { qos: 1 });
        const readings = await waitFor("the next reading", async () => {
          const r = await readingsOf(server, device.id);
          return r.some((x) => x.value === 51) ? r : undefined;
        });
        expect(readings.map((r) => r.value)).toEqual([50, 51]);
      } finally {
        await publisher.endAsync();
        await server.close();
        await cutter.stop();
        await broker.stop();
      }
    });
  });
}
