import { z } from "zod";
import { uuidSchema } from "./accounts";
import { pageInput } from "./common";

export const COMMAND_STATUSES = ["pending", "sent", "acknowledged", "succeeded", "failed", "expired", "cancelled"] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
/** What a device may report about a command it received. */
export const COMMAND_ACK_STATUSES = ["acknowledged", "succeeded", "failed"] as const;

/**
 * pump: run for `seconds`, or long enough for `ml` (converted with the pump's flow rate).
 * switch (lamps, relays): on or off; `minutes` with "on" switches off again after that long.
 */
export const commandSchema = z.discriminatedUnion("action", [
  z
    .object({
      action: z.literal("pump"),
      seconds: z.number().positive("must be above 0").max(3600, "must be at most 3600").optional(),
      ml: z.number().positive("must be above 0").max(100_000, "must be at most 100000").optional(),
    })
    .strict()
    .superRefine((c, ctx) => {
      if ((c.seconds === undefined) === (c.ml === undefined)) {
        ctx.addIssue({ code: "custom", path: ["seconds"], message: "give either seconds or ml" });
      }
    }),
  z
    .object({
      action: z.literal("switch"),
      state: z.enum(["on", "off"]),
      minutes: z.number().positive("must be above 0").max(24 * 60, "must be at most 1440").optional(),
    })
    .strict()
    .superRefine((c, ctx) => {
      if (c.minutes !== undefined && c.state !== "on") ctx.addIssue({ code: "custom", path: ["minutes"], message: "only with state on" });
    }),
]);
export type CommandRequest = z.infer<typeof commandSchema>;

export const createCommandInput = z.object({
  actuatorId: uuidSchema,
  command: commandSchema,
  /** Retries with the same key return the first command instead of queueing another. */
  idempotencyKey: z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
  /** How long the device may take to pick the command up (default 5 minutes). */
  expiresInSeconds: z.number().int("must be a whole number").min(5, "must be at least 5").max(86_400, "must be at most 86400").default(300),
});
export const commandIdInput = z.object({ commandId: uuidSchema });
export const listCommandsInput = pageInput.extend({
  actuatorId: uuidSchema.optional(),
  deviceId: uuidSchema.optional(),
  status: z.enum(COMMAND_STATUSES).optional(),
});

