import { z } from "zod";
import { deviceNameSchema, uuidSchema } from "./accounts";
import { hardwareKeySchema, metricSchema } from "./hardware";

/**
 * MQTT bindings: which topics feed which device. A preset binding names what the device's own
 * tool calls it (a Zigbee2MQTT friendly name, a Tasmota topic, a BLE MAC, an ESPHome node) and
 * needs no mapping; a generic binding names a topic pattern and, optionally, where the values are.
 */

export const MQTT_PRESETS = ["zigbee2mqtt", "tasmota", "omg", "esphome", "generic"] as const;
export type MqttPreset = (typeof MQTT_PRESETS)[number];

/** The topic prefix each preset uses unless its tool was configured otherwise. */
export const DEFAULT_PREFIXES: Record<MqttPreset, string> = {
  zigbee2mqtt: "zigbee2mqtt",
  tasmota: "",
  omg: "home",
  esphome: "",
  generic: "",
};

/** A topic level or a run of them: no wildcards, no NUL, no empty levels at the ends. */
const topicText = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(200, "must be at most 200 characters")
  .refine((t) => !/[+#]/.test(t), "must not contain the wildcards + or #")
  .refine((t) => !t.startsWith("/") && !t.endsWith("/"), "must not start or end with /");

/** A subscription pattern: levels separated by /, `+` for one whole level, `#` only as the last level. */
export const topicPatternSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(200, "must be at most 200 characters")
  .refine((p) => !p.startsWith("$"), "must not start with $ (broker-internal topics)")
  .refine(
    (p) => p.split("/").every((level, i, all) => (level.includes("+") || level.includes("#") ? level.length === 1 && (level === "+" || i === all.length - 1) : true)),
    "+ must be a whole level and # a whole last level",
  );

/** Generic mapping: where a value is in the JSON payload (dots between keys), and what it becomes. */
export const mqttFieldSchema = z.object({
  path: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(200, "must be at most 200 characters")
    .regex(/^[^.]+(\.[^.]+)*$/, "keys separated by dots, e.g. sensors.soil"),
  sensor: hardwareKeySchema,
  metric: metricSchema.optional(),
  /** Multiplied with the value before it is stored (e.g. 0.001 for µS/cm → mS/cm). */
  scale: z.number().finite().refine((v) => v !== 0, "must not be 0").optional(),
});
export type MqttField = z.infer<typeof mqttFieldSchema>;

export const mqttMappingSchema = z.object({
  /** JSON payloads: these values only. Without fields, every number in the payload is a reading. */
  fields: z.array(mqttFieldSchema).max(64, "at most 64 fields").optional(),
  /** Plain-number payloads: the sensor key (default: the topic's last level). */
  valueSensor: hardwareKeySchema.optional(),
  valueMetric: metricSchema.optional(),
  /** Where the payload carries its own time (epoch seconds or ms, or ISO 8601 with a zone). */
  timePath: z.string().trim().min(1).max(200).optional(),
});
export type MqttMapping = z.infer<typeof mqttMappingSchema>;

const bindingTarget = z
  .object({
    preset: z.enum(MQTT_PRESETS),
    /**
     * zigbee2mqtt: the friendly name; tasmota: the device topic; omg: the MAC (with or without
     * colons); esphome: the node's topic prefix; generic: the topic pattern (+ and # allowed).
     */
    base: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
    /** The tool's base topic when it is not the default (zigbee2mqtt's `base_topic`, OpenMQTTGateway's `home`). */
    prefix: topicText.optional(),
    mapping: mqttMappingSchema.optional(),
  })
  .superRefine((b, ctx) => {
    if (b.preset === "generic") {
      const parsed = topicPatternSchema.safeParse(b.base);
      if (!parsed.success) ctx.addIssue({ code: "custom", path: ["base"], message: parsed.error.issues[0]!.message });
    } else {
      const parsed = topicText.safeParse(b.base);
      if (!parsed.success) ctx.addIssue({ code: "custom", path: ["base"], message: parsed.error.issues[0]!.message });
      if (b.mapping) ctx.addIssue({ code: "custom", path: ["mapping"], message: "only a generic binding takes a mapping: presets map themselves" });
      if (b.preset === "omg" && !/^([0-9A-Fa-f]{2}:?){5}[0-9A-Fa-f]{2}$/.test(b.base)) {
        ctx.addIssue({ code: "custom", path: ["base"], message: "must be a MAC address, e.g. C4:7C:8D:6A:1B:2C" });
      }
    }
    if (b.prefix !== undefined && (b.preset === "tasmota" || b.preset === "esphome" || b.preset === "generic")) {
      ctx.addIssue({ code: "custom", path: ["prefix"], message: `a ${b.preset} binding has no prefix: put the whole topic in base` });
    }
  });

export const listBindingsInput = z.object({ deviceId: uuidSchema.optional() });
export const bindInput = z.intersection(z.object({ deviceId: uuidSchema }), bindingTarget);
export const unbindInput = z.object({ bindingId: uuidSchema });
export const discoveredInput = z.object({ limit: z.number().int().min(1).max(500).default(100) });
export const adoptInput = z
  .object({
    discoveredId: uuidSchema,
    /** Bind to this device … */
    deviceId: uuidSchema.optional(),
    /** … or create one with this name (default: what the tool calls it). */
    deviceName: deviceNameSchema.optional(),
  })
  .refine((a) => !(a.deviceId && a.deviceName), { path: ["deviceName"], message: "give deviceId or deviceName, not both" });
