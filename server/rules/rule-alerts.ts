import { and, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../../db/client";
import { alerts } from "../../db/schema";

/** The alert rule name of a rule's alerts: with the subject, their dedup key. */
export const alertRuleOf = (ruleId: string) => `rule:${ruleId}`;

/** Rules deleted or disabled (or built-in ones removed) no longer watch their condition: their open alerts are resolved. */
export async function resolveRuleAlerts(db: Db, siteId: string, ruleIds: string[], now: Date): Promise<void> {
  if (ruleIds.length === 0) return;
  await db
    .update(alerts)
    .set({ status: "resolved", resolvedAt: now, resolvedBy: null })
    .where(and(eq(alerts.siteId, siteId), inArray(alerts.rule, ruleIds.map(alertRuleOf)), ne(alerts.status, "resolved")));
}
