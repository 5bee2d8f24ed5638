import { z } from "zod";
import { isMetric } from "../metrics";
import { MAX_ABS_VALUE, MAX_ABS_VALUE_TEXT } from "../values";
import { COMMAND_ACK_STATUSES, COMMAND_STATUSES } from "./commands";

/**
 * The device wire contract: what a device sends (`POST /v1/ingest`, command reports) and what it
 * gets back (receipts, errors, commands, `GET /v1/whoami`). Written once, here, for the server and
 * the device SDK (client/device.ts) alike.
 *
 * The server validates ingest bodies with a hand-written single pass (server/pipelines/ingest/
 * parse.ts): a thousand readings through zod cost milliseconds per batch, as much as the rest of
 * ingest. It uses the constants below, and a test holds it to these schemas (test/device-wire.test.ts):
 * whatever one accepts the other accepts, and the refused reading is the same.
 */

/** 1–128 characters of letters, digits and `. _ : -`; unique per batch, reused on retry. */
export const BATCH_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** The device's own name for a sensor: 1–64 characters of the same alphabet. */
export const SENSOR_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** Readings before 2000 are a device with an unset clock, not history. */
export const EARLIEST_READING_TS = Date.UTC(2000, 0, 1);

const epochMs = z.number().int("ts must be an integer of epoch milliseconds").min(EARLIEST_READING_TS, "ts is before 2000-01-01: is the device clock set?");
const metric = z.string().refine(isMetric, { message: "metric is not known" });

/** One reading in the rows form. `ts` absent: the server's time when the batch arrives. */
export const wireReading = z.object({
  sensor: z.string().regex(SENSOR_KEY_PATTERN, "sensor must be 1-64 characters of letters, digits and . _ : -"),
  value: z.number().finite("value must be a finite number").refine((v) => Math.abs(v) <= MAX_ABS_VALUE, { message: `value must be within ±${MAX_ABS_VALUE_TEXT}` }),
  ts: epochMs.nullish(),
  metric: metric.nullish(),
});

const batchHead = {
  batchId: z.string().regex(BATCH_ID_PATTERN, "batchId is required: 1-128 characters of letters, digits and . _ : -"),
  /** Which attempt at sending this batch (1 = first). Optional: the server finds retries without it. */
  attempt: z.number().int().min(1).optional(),
};

/** `POST /v1/ingest`, rows form: `{ batchId, attempt?, readings: [{ sensor, value, ts?, metric? }] }`. */
export const ingestRowsBody = z.object({ ...batchHead, readings: z.array(wireReading) });

/** `POST /v1/ingest`, columnar form for small microcontrollers: one sensor's series. */
export const ingestColumnsBody = z
  .object({
    ...batchHead,
    sensor: wireReading.shape.sensor,
    metric: metric.nullish(),
    value: z.array(wireReading.shape.value),
    ts: z.array(epochMs).optional(),
  })
  .refine((b) => b.ts === undefined || b.ts.length === b.value.length, { message: "columnar form: ts must be an array as long as value", path: ["ts"] });

export const ingestBody = z.union([ingestRowsBody, ingestColumnsBody]);
export type IngestBody = z.input<typeof ingestBody>;
export type WireReading = z.input<typeof wireReading>;

/** What a device gets for an accepted batch. */
export const ingestReceipt = z.object({
  batchId: z.string(),
  accepted: z.number().int(),
  /** Readings of a batch that was already stored (a retry): counted, not stored again. */
  duplicates: z.number().int(),
  rejected: z.array(z.object({ index: z.number().int(), reason: z.string() })),
});
export type IngestReceipt = z.infer<typeof ingestReceipt>;

/** Every error of the device endpoints: `{ error, details }`. */
export const deviceError = z.object({ error: z.string(), details: z.unknown() });
export type DeviceError = z.infer<typeof deviceError>;

/** `GET /v1/whoami`. */
export const whoami = z.object({ deviceId: z.string(), siteId: z.string(), name: z.string() });
export type Whoami = z.infer<typeof whoami>;

/** One command as `GET /v1/commands` delivers it: what the device needs to act, times in epoch ms. */
export const deviceCommand = z.discriminatedUnion("action", [
  z.object({
    id: z.string(),
    actuatorId: z.string(),
    actuatorKey: z.string(),
    actuatorKind: z.string(),
    action: z.literal("pump"),
    /** Run this long; `ml` is what that should deliver, when the pump's flow rate is known. */
    seconds: z.number().nullable(),
    ml: z.number().nullable(),
    /** The pump must stop by itself after this long, whatever else happens. */
    maxRunSeconds: z.number().nullable(),
    status: z.enum(COMMAND_STATUSES),
    expiresAt: z.number(),
    createdAt: z.number(),
  }),
  z.object({
    id: z.string(),
    actuatorId: z.string(),
    actuatorKey: z.string(),
    actuatorKind: z.string(),
    action: z.literal("switch"),
    state: z.enum(["on", "off"]).nullable(),
    /** With "on": switch off again after this long. */
    seconds: z.number().nullable(),
    status: z.enum(COMMAND_STATUSES),
    expiresAt: z.number(),
    createdAt: z.number(),
  }),
]);
export type DeviceCommand = z.infer<typeof deviceCommand>;
export const deviceCommands = z.object({ commands: z.array(deviceCommand) });

/** `POST /v1/commands/:id/ack`: what a device reports about one of its commands. */
export const commandReport = z.object({
  status: z.enum(COMMAND_ACK_STATUSES),
  detail: z.string().max(1000, "must be at most 1000 characters").optional(),
});
export type CommandReport = z.infer<typeof commandReport>;
