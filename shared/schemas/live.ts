import { z } from "zod";
import { uuidSchema } from "./accounts";

/** Live readings of a site; `sensorIds` narrows them to some sensors. */
export const liveReadingsInput = z.object({
  sensorIds: z.array(uuidSchema).min(1, "must name at least one sensor").max(500, "must name at most 500 sensors").optional(),
});

export const liveAlertsInput = z.object({
  plantId: uuidSchema.optional(),
});

export const liveCommandsInput = z.object({
  deviceId: uuidSchema.optional(),
  actuatorId: uuidSchema.optional(),
});
