import { z } from "zod";
import { uuidSchema } from "./accounts";
import { pageInput } from "./common";

export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const ALERT_STATUSES = ["active", "acknowledged", "resolved"] as const;

export const listAlertsInput = pageInput.extend({
  plantId: uuidSchema.optional(),
  severity: z.enum(ALERT_SEVERITIES).optional(),
  status: z.enum(ALERT_STATUSES).optional(),
});
export const alertIdInput = z.object({ alertId: uuidSchema });
