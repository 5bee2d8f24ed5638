import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createConnection, type Socket } from "node:net";
import mqttPacket, { type Packet } from "mqtt-packet";
import { freePort } from "./support/mosquitto";
import { connectClient, readingsOf, waitFor } from "./support/mqtt";
import { gardenOwner, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * The embedded broker (MQTT_LISTEN): devices connect with their device token, their messages are
 * durable before they get a PUBACK, a redelivered message is stored once, sites cannot see each
 * other's topics, commands reach devices through it and a device's will raises "offline".
 */

/** A bare MQTT 3.1.1 connection that sends exactly the packets a test writes (packet ids, DUP). */
class RawClient {
  readonly packets: Packet[] = [];
  #waiters: { match: (p: Packet) => boolean; resolve: (p: Packet) => void }[] = [];
  private constructor(readonly socket: Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (packet) => {
      this.packets.push(packet);
      const waiter = this.#waiters.find((w) => w.match(packet));
      if (waiter) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(packet);
      }
    });
    socket.on("data", (data) => parser.parse(data as Buffer));
  }

  static async connect(port: number, options: { clientId: string; password: string }): Promise<{ client: RawClient; returnCode: number }> {
    const socket = createConnection({ port, host: "127.0.0.1" });
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new RawClient(socket);
    const connack = client.next((p) => p.cmd === "connack");
    client.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: options.clientId, keepalive: 60, username: "device", password: Buffer.from(options.password) });
    return { client, returnCode: ((await connack) as { returnCode: number }).returnCode };
  }

  send(packet: Record<string, unknown>): void {
    this.socket.write(mqttPacket.generate(packet as unknown as Packet));
  }

  next(match: (p: Packet) => boolean, timeoutMs = 10_000): Promise<Packet> {
    const seen = this.packets.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ match, resolve });
      setTimeout(() => reject(new Error("no such packet in time")), timeoutMs).unref?.();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

for (const engine of postgresEngines) {
  describe(`embedded MQTT broker on ${engine}`, () => {
    let server: TestServer;
    let port: number;
    let api: Api;
    let siteId: string;
    let other: { api: Api; siteId: string };

    beforeAll(async () => {
      port = await freePort();
      server = await startTestServer(engine, { mqtt: { bridge: null, listen: { host: "127.0.0.1", port } } });
      ({ api, siteId } = await gardenOwner(server, `broker-${engine}@example.com`));
      other = await gardenOwner(server, `neighbour-${engine}@example.com`);
    });
    afterAll(() => server?.close());

    const provision = async (name: string, a = api, site = siteId) => a.devices.provision.mutate({ siteId: site, name });
    const url = () => `mqtt://127.0.0.1:${port}`;

    test("refuses a client without a valid device token and accepts one with it", async () => {
      const { device, token } = await provision("Token check");
      await expect(connectClient(url(), { clientId: "anonymous" })).rejects.toThrow(/Bad username or password/);
      await expect(connectClient(url(), { clientId: "guess", username: "x", password: "vdt_not-a-real-token" })).rejects.toThrow(/Bad username or password/);
      const client = await connectClient(url(), { clientId: "good", username: "tasmota", password: token });
      expect(client.connected).toBe(true);
      await client.endAsync();

      await api.devices.revoke.mutate({ siteId, deviceId: device.id });
      await expect(connectClient(url(), { clientId: "revoked", username: "tasmota", password: token })).rejects.toThrow(/Bad username or password/);
    });

    test("a device's QoS 1 message is durable before its PUBACK, and a redelivery is stored once", async () => {
      const { device, token } = await provision("Raw sensor");
      await api.mqtt.bind.mutate({ siteId, deviceId: device.id, preset: "esphome", base: "raw-node" });
      const { client, returnCode } = await RawClient.connect(port, { clientId: "raw-node", password: token });
      expect(returnCode).toBe(0);
      try {
        const publish = (messageId: number, dup: boolean, payload: string) =>
          client.send({ cmd: "publish", topic: "raw-node/sensor/soil_moisture/state", payload: Buffer.from(payload), qos: 1, messageId, dup, retain: false });
        publish(7, false, "40.5");
        await client.next((p) => p.cmd === "puback" && p.messageId === 7);
        // The PUBACK came once the reading was durable: it is in ClickHouse as soon as ingest has
        // flushed what it acknowledged (readingsOf waits for that, and for nothing else).
        expect((await readingsOf(server, device.id)).map((r) => r.value)).toEqual([40.5]);

        // The device did not get the PUBACK (say, the connection dropped) and sends it again.
        client.packets.length = 0;
        publish(7, true, "40.5");
        await client.next((p) => p.cmd === "puback" && p.messageId === 7);
        expect((await readingsOf(server, device.id)).map((r) => r.value)).toEqual([40.5]);

        // A new message with the same value is a new reading.
        publish(8, false, "40.5");
        await client.next((p) => p.cmd === "puback" && p.messageId === 8);
        expect((await readingsOf(server, device.id)).map((r) => r.value)).toEqual([40.5, 40.5]);
      } finally {
        client.close();
      }
    });

    test("a Tasmota on the embedded broker is discovered in its token's site, then stores once bound", async () => {
      const { device, token } = await provision("Tasmota on Verdant");
      const tasmota = await connectClient(url(), { clientId: "DVES_5C1A2B", username: "DVES_USER", password: token });
      try {
        const sensor = { Time: "2024-05-01T12:00:00", SHT3X: { Temperature: 21.7, Humidity: 52.3, DewPoint: 11.6 }, TempUnit: "C" };
        await tasmota.publishAsync("tele/tasmota_on_verdant/SENSOR", JSON.stringify(sensor), { qos: 1 });
        const found = await waitFor("the discovered Tasmota", async () => (await api.mqtt.discovered.query({ siteId })).find((d) => d.base === "tasmota_on_verdant"));
        expect(found.preset).toBe("tasmota");
        expect(await other.api.mqtt.discovered.query({ siteId: other.siteId })).toEqual([]);
        expect(await readingsOf(server, device.id)).toEqual([]);

        await api.mqtt.adopt.mutate({ siteId, discoveredId: found.id, deviceId: device.id });
        await tasmota.publishAsync("tele/tasmota_on_verdant/SENSOR", JSON.stringify(sensor), { qos: 1 });
        expect((await readingsOf(server, device.id)).map((r) => [r.key, r.value])).toEqual([
          ["SHT3X.DewPoint", 11.6],
          ["SHT3X.Humidity", 52.3],
          ["SHT3X.Temperature", 21.7],
        ]);
      } finally {
        await tasmota.endAsync();
      }
    });

    test("sites do not see each other's topics, and a device sees its own site's without the scope", async () => {
      const mine = await provision("Listener here");
      const theirs = await provision("Listener there", other.api, other.siteId);
      const here = await connectClient(url(), { clientId: "same-id", password: mine.token, username: "u" });
      const there = await connectClient(url(), { clientId: "same-id", password: theirs.token, username: "u" });
      const heard: { who: string; topic: string; payload: string }[] = [];
      here.on("message", (topic, payload) => heard.push({ who: "here", topic, payload: payload.toString() }));
      there.on("message", (topic, payload) => heard.push({ who: "there", topic, payload: payload.toString() }));
      try {
        await here.subscribeAsync("#", { qos: 1 });
        await there.subscribeAsync("#", { qos: 1 });
        await here.publishAsync("greenhouse/note", "hello", { qos: 1 });
        await waitFor("the message", () => heard.length >= 1 || undefined);
        await Bun.sleep(200);
        // The same client id in two sites is two clients: neither took the other's session over.
        expect(here.connected && there.connected).toBe(true);
        expect(heard).toEqual([{ who: "here", topic: "greenhouse/note", payload: "hello" }]);
      } finally {
        await here.endAsync();
        await there.endAsync();
      }
    });

    test("a pump command reaches the device through the embedded broker, and its will raises offline", async () => {
      const { device, token } = await provision("Pump on Verdant");
      await api.mqtt.bind.mutate({ siteId, deviceId: device.id, preset: "tasmota", base: "pump_on_verdant" });
      const pump = await api.actuators.create.mutate({ siteId, deviceId: device.id, key: "pump1", kind: "pump", maxRunSeconds: 20 });
      await api.rules.create.mutate({
        siteId,
        name: "Pump offline",
        kind: "offline",
        target: { type: "device", deviceId: device.id },
        actions: [{ type: "alert", severity: "critical", title: "{device} dropped off" }],
      });
      const tasmota = await connectClient(url(), {
        clientId: "pump_on_verdant",
        username: "DVES_USER",
        password: token,
        will: { topic: "tele/pump_on_verdant/LWT", payload: Buffer.from("Offline"), qos: 1, retain: true },
      });
      const received: { topic: string; payload: string }[] = [];
      tasmota.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
      await tasmota.subscribeAsync("cmnd/pump_on_verdant/#", { qos: 1 });
      await tasmota.publishAsync("tele/pump_on_verdant/LWT", "Online", { qos: 1, retain: true });

      const { command } = await api.commands.create.mutate({ siteId, actuatorId: pump.id, command: { action: "pump", seconds: 8 }, idempotencyKey: "embedded-pump" });
      await waitFor("the command", () => received.length >= 1 || undefined);
      expect(received).toEqual([{ topic: "cmnd/pump_on_verdant/Backlog", payload: "PulseTime1 80;Power1 ON" }]);
      await tasmota.publishAsync("stat/pump_on_verdant/POWER1", "ON", { qos: 1 });
      expect((await api.commands.get.query({ siteId, commandId: command.id })).status).toBe("acknowledged");

      // The device drops off without a goodbye: the broker publishes its will.
      tasmota.stream.destroy();
      const alert = await waitFor("the offline alert", async () => {
        await server.automation.idle();
        return (await api.alerts.list.query({ siteId, status: "active" })).items.find((a) => a.deviceId === device.id);
      });
      expect(alert).toMatchObject({ title: "Pump on Verdant dropped off", severity: "critical" });
      tasmota.end(true);
    });

    test("a device's presence reaches every server: another server's engine hears the will at once, the alert is raised once", async () => {
      const peer = await server.peer();
      const heard: { deviceId: string; state: string }[] = [];
      const off = peer.events.on("device.presence", ({ deviceId, state }) => void heard.push({ deviceId, state }));
      try {
        const { device, token } = await provision("Shelf Tasmota");
        await api.mqtt.bind.mutate({ siteId, deviceId: device.id, preset: "tasmota", base: "shelf_tasmota" });
        await api.rules.create.mutate({
          siteId,
          name: "Shelf offline",
          kind: "offline",
          target: { type: "device", deviceId: device.id },
          actions: [{ type: "alert", severity: "warning", title: "{device} is away" }],
        });
        const tasmota = await connectClient(url(), {
          clientId: "shelf_tasmota",
          username: "DVES_USER",
          password: token,
          will: { topic: "tele/shelf_tasmota/LWT", payload: Buffer.from("Offline"), qos: 1, retain: true },
        });
        await tasmota.publishAsync("tele/shelf_tasmota/LWT", "Online", { qos: 1, retain: true });
        // The peer runs no broker: it hears of the device only through Postgres.
        await waitFor("the peer hearing Online", () => heard.some((h) => h.deviceId === device.id && h.state === "online") || undefined);
        tasmota.stream.destroy();
        await waitFor("the peer hearing Offline", () => heard.some((h) => h.deviceId === device.id && h.state === "offline") || undefined);
        const alert = await waitFor("the offline alert", async () => {
          await Promise.all([server.automation.idle(), peer.automation.idle()]);
          return (await api.alerts.list.query({ siteId, status: "active" })).items.find((a) => a.deviceId === device.id);
        });
        // Both engines judged the will; the rule's state is claimed in Postgres, so it fired once.
        await Promise.all([server.automation.idle(), peer.automation.idle()]);
        expect((await api.alerts.get.query({ siteId, alertId: alert.id })).occurrences).toBe(1);
        tasmota.end(true);
      } finally {
        off();
        await peer.close();
      }
    });
  });
}
