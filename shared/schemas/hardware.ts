import { z } from "zod";
import { METRICS } from "../metrics";
import { calibrationIssues, MAX_ABS_VALUE, MAX_ABS_VALUE_TEXT } from "../values";
import { deviceNameSchema, uuidSchema } from "./accounts";
import { optionalText, pageInput } from "./common";

export const DEVICE_KINDS = ["sensor", "actuator", "combined"] as const;
export const ACTUATOR_KINDS = ["pump", "lamp", "relay"] as const;
export type ActuatorKind = (typeof ACTUATOR_KINDS)[number];

/** What the device calls a sensor or output, e.g. "soil1" or "pump1". */
export const hardwareKeySchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9_.:-]+$/, "may contain letters, digits, _ . : and - only");

export const updateDeviceInput = z.object({
  deviceId: uuidSchema,
  name: deviceNameSchema.optional(),
  kind: z.enum(DEVICE_KINDS).optional(),
  /** e.g. a MAC address; unique within the site. */
  hardwareId: optionalText(100),
  firmware: optionalText(100),
  location: optionalText(200),
  expectedReportIntervalSeconds: z.number().int("must be a whole number").min(1, "must be at least 1").max(7 * 24 * 3600, "must be at most a week").optional(),
});

export const metricSchema = z.enum(METRICS as [string, ...string[]], { message: `must be one of ${METRICS.join(", ")}` });

export const listSensorsInput = pageInput.extend({ deviceId: uuidSchema.optional(), plantId: uuidSchema.optional() });
export const sensorIdInput = z.object({ sensorId: uuidSchema });
export const createSensorInput = z.object({
  deviceId: uuidSchema,
  key: hardwareKeySchema,
  metric: metricSchema,
  /** Defaults to the metric's unit. */
  unit: z.string().trim().max(20, "must be at most 20 characters").optional(),
  name: optionalText(100),
  plantId: uuidSchema.nullable().optional(),
});
export const updateSensorInput = z.object({
  sensorId: uuidSchema,
  metric: metricSchema.optional(),
  unit: z.string().trim().max(20, "must be at most 20 characters").optional(),
  name: optionalText(100),
});
export const assignSensorInput = z.object({ sensorId: uuidSchema, plantId: uuidSchema });

/**
 * Two readings the sensor gave (raw) and what they mean (value), e.g. dry soil 3100 → 0 %, wet
 * 1400 → 100 %. Degenerate or overflowing calibrations are refused on the field at fault (shared/values.ts).
 */
export const calibrationInput = z
  .object({ sensorId: uuidSchema, rawLow: z.number(), valueLow: z.number(), rawHigh: z.number(), valueHigh: z.number() })
  .superRefine((c, ctx) => {
    for (const issue of calibrationIssues(c)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
  });
const boundedNumber = z.number().min(-MAX_ABS_VALUE, `must be within ±${MAX_ABS_VALUE_TEXT}`).max(MAX_ABS_VALUE, `must be within ±${MAX_ABS_VALUE_TEXT}`);
export const previewCalibrationInput = z.object({ sensorId: uuidSchema, raw: boundedNumber });

export const listActuatorsInput = pageInput.extend({ deviceId: uuidSchema.optional(), plantId: uuidSchema.optional() });
export const actuatorIdInput = z.object({ actuatorId: uuidSchema });
const flowRate = z.number().positive("must be above 0").max(10_000, "must be at most 10000").nullable().optional();
const maxRun = z.number().int("must be a whole number").min(1, "must be at least 1").max(3600, "must be at most 3600").optional();
export const createActuatorInput = z.object({
  deviceId: uuidSchema,
  key: hardwareKeySchema,
  kind: z.enum(ACTUATOR_KINDS),
  name: optionalText(100),
  plantId: uuidSchema.nullable().optional(),
  /** Pumps: measured flow in ml/s, needed to queue a command in ml. */
  flowRateMlPerSecond: flowRate,
  /** Pumps: the device stops by itself after this long (default 60 s). */
  maxRunSeconds: maxRun,
});
export const updateActuatorInput = z.object({
  actuatorId: uuidSchema,
  name: optionalText(100),
  flowRateMlPerSecond: flowRate,
  maxRunSeconds: maxRun,
});
export const assignActuatorInput = z.object({ actuatorId: uuidSchema, plantId: uuidSchema });
