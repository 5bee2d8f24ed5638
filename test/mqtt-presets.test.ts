import { describe, expect, test } from "bun:test";
import { decodePreset, defaultPrefixes, presenceOf, pulseTimeOf, recognise } from "../server/pipelines/mqtt";
import { ConfigError, loadConfig } from "../server/platform";
import { topicMatches } from "../shared/mqtt-topics";

/**
 * The pure parts of MQTT: Tasmota's PulseTime encoding (the device's own stop timer, so it must
 * be exact), which topics belong to which preset, and the MQTT settings' validation. The brokers
 * themselves are tested in mqtt-bridge.test.ts and mqtt-broker.test.ts.
 */

describe("Tasmota PulseTime", () => {
  test("tenths of a second up to 11.1 s, then whole seconds plus 100, never longer than asked", () => {
    const cases: [number, number][] = [
      [0.05, 1], // the shortest pulse there is: 0.1 s
      [0.1, 1],
      [0.3, 3],
      [2.3, 23],
      [2.5, 25],
      [10, 100],
      [11.1, 111],
      [11.5, 111], // 12 s would run longer than asked: 11.1 s
      [11.99, 111],
      [12, 112],
      [12.9, 112],
      [30, 130],
      [60, 160],
      [3600, 3700],
      [64800, 64900],
      [86400, 64900], // the longest Tasmota can time: 18 h
    ];
    for (const [seconds, value] of cases) expect(`${seconds} s → ${pulseTimeOf(seconds)}`).toBe(`${seconds} s → ${value}`);
    expect(pulseTimeOf(0)).toBe(0);
  });
});

describe("topics", () => {
  const prefixes = defaultPrefixes();
  test("each preset's topics are recognised with the binding they need", () => {
    expect(recognise("zigbee2mqtt/Living room/soil", prefixes)).toEqual({ preset: "zigbee2mqtt", prefix: "zigbee2mqtt", base: "Living room/soil", kind: "readings" });
    expect(recognise("zigbee2mqtt/Living room/soil/availability", prefixes)).toMatchObject({ base: "Living room/soil", kind: "presence" });
    expect(recognise("zigbee2mqtt/Lamp/set", prefixes)).toBeUndefined();
    expect(recognise("zigbee2mqtt/bridge/devices", prefixes)).toBeUndefined();
    expect(recognise("tele/tasmota_1/SENSOR", prefixes)).toEqual({ preset: "tasmota", prefix: "", base: "tasmota_1", kind: "readings" });
    expect(recognise("tele/tasmota_1/LWT", prefixes)).toMatchObject({ kind: "presence" });
    expect(recognise("stat/tasmota_1/POWER2", prefixes)).toMatchObject({ kind: "power" });
    expect(recognise("home/gw/BTtoMQTT/c47c8d6a1b2c", prefixes)).toEqual({ preset: "omg", prefix: "home", base: "C47C8D6A1B2C", kind: "readings" });
    expect(recognise("node1/sensor/soil/state", prefixes)).toEqual({ preset: "esphome", prefix: "", base: "node1", kind: "readings" });
    expect(recognise("node1/status", prefixes)).toMatchObject({ preset: "esphome", kind: "presence" });
    expect(recognise("random/topic/here", prefixes)).toBeUndefined();
  });

  test("presence in the forms the tools publish", () => {
    expect(["Online", "offline", '{"state":"online"}', '{"state":"offline"}', "maybe", "{}"].map(presenceOf)).toEqual(["online", "offline", "online", "offline", undefined, undefined]);
  });

  test("Tasmota power reports from POWER, POWER<n> and RESULT", () => {
    const power = (topic: string, payload: string) => decodePreset(recognise(topic, prefixes)!, topic, payload).power;
    expect(power("stat/t/POWER", "ON")).toEqual([{ output: "POWER1", on: true }]);
    expect(power("stat/t/POWER2", "OFF")).toEqual([{ output: "POWER2", on: false }]);
    expect(power("stat/t/RESULT", '{"POWER1":"ON","POWER2":"OFF"}')).toEqual([
      { output: "POWER1", on: true },
      { output: "POWER2", on: false },
    ]);
    expect(power("stat/t/RESULT", '{"PulseTime1":{"Set":130,"Remaining":130}}')).toEqual([]);
  });

  test("a Tasmota Time with its offset (SetOption52) is a point in time; without, it is not", () => {
    const at = (time: string) => decodePreset(recognise("tele/t/SENSOR", prefixes)!, "tele/t/SENSOR", JSON.stringify({ Time: time, AM2301: { Temperature: 20 } })).ts;
    expect(at("2024-05-01T12:00:00+02:00")).toBe(Date.UTC(2024, 4, 1, 10));
    expect(at("2024-05-01T12:00:00")).toBeUndefined();
  });

  test("wildcards match as a broker matches them", () => {
    expect(topicMatches("a/+/c", "a/b/c")).toBe(true);
    expect(topicMatches("a/+/c", "a/b/d")).toBe(false);
    expect(topicMatches("a/#", "a")).toBe(true);
    expect(topicMatches("a/#", "a/b/c")).toBe(true);
    expect(topicMatches("#", "$SYS/x")).toBe(false);
    expect(topicMatches("a/b", "a/b/c")).toBe(false);
  });
});

describe("MQTT settings", () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems.map((p) => p.variable);
    }
  };

  test("bad values are refused, naming the variable", () => {
    expect(problems({ MQTT_URL: "http://broker:1883", MQTT_SITE_ID: "8f7e2a9c-1b3d-4e5f-8a6b-7c8d9e0f1a2b" })).toEqual(["MQTT_URL"]);
    expect(problems({ MQTT_URL: "mqtt://broker:1883" })).toEqual(["MQTT_SITE_ID"]);
    expect(problems({ MQTT_URL: "mqtt://broker:1883", MQTT_SITE_ID: "site-1" })).toEqual(["MQTT_SITE_ID"]);
    expect(problems({ MQTT_LISTEN: "everywhere" })).toEqual(["MQTT_LISTEN"]);
    expect(problems({ MQTT_LISTEN: "70000" })).toEqual(["MQTT_LISTEN"]);
    expect(problems({ MQTT_PROTOCOL_VERSION: "3" })).toEqual(["MQTT_PROTOCOL_VERSION"]);
    expect(problems({ MQTT_CLIENT_ID: "has spaces" })).toEqual(["MQTT_CLIENT_ID"]);
  });

  test("the client id is stable for one installation and differs between data directories", () => {
    const site = "8f7e2a9c-1b3d-4e5f-8a6b-7c8d9e0f1a2b";
    const of = (dataDir: string) => loadConfig({ MQTT_URL: "mqtts://u:p@broker:8883", MQTT_SITE_ID: site, DATA_DIR: dataDir }).mqtt.bridge!.clientId;
    expect(of("/srv/verdant")).toBe(of("/srv/verdant"));
    expect(of("/srv/verdant")).not.toBe(of("/srv/other"));
    expect(of("/srv/verdant")).toMatch(/^verdant-[0-9a-f]{16}$/);
    expect(loadConfig({ MQTT_LISTEN: "127.0.0.1:1884" }).mqtt.listen).toEqual({ host: "127.0.0.1", port: 1884 });
    expect(loadConfig({ MQTT_LISTEN: "1883", HOST: "0.0.0.0" }).mqtt.listen).toEqual({ host: "0.0.0.0", port: 1883 });
    expect(loadConfig({}).mqtt).toEqual({ bridge: null, listen: null });
  });
});
