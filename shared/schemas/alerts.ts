import { z } from "zod";
import { METRICS } from "../metrics";
import { uuidSchema } from "./accounts";
import { pageInput } from "./common";

export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const ALERT_STATUSES = ["active", "acknowledged", "resolved"] as const;

export const listAlertsInput = pageInput.extend({
  plantId: uuidSchema.optional(),
  /** Alerts about this metric (raised by rules that measure it). */
  metric: z.enum(METRICS).optional(),
  severity: z.enum(ALERT_SEVERITIES).optional(),
  status: z.enum(ALERT_STATUSES).optional(),
});
export const alertIdInput = z.object({ alertId: uuidSchema });

/** Bulk acknowledge/resolve: up to 100 alerts of one site (a page of the inbox). */
export const MAX_BULK_ALERTS = 100;
export const alertIdsInput = z.object({
  alertIds: z.array(uuidSchema).min(1, "must name at least one alert").max(MAX_BULK_ALERTS, `must name at most ${MAX_BULK_ALERTS} alerts`),
});
