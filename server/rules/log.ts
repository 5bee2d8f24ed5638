import { and, eq, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { automationLog } from "../../db/schema";
import type { AUTOMATION_EVENTS } from "../../shared/schemas/automation";
import { afterCursor, keysetOf, orderBy, pageOf } from "../platform";
import { requirePlant, requireSiteFilters } from "../sites";

/** The automation log: every firing, clearing, action and refusal, with why, per site and plant. */

export type AutomationEvent = (typeof AUTOMATION_EVENTS)[number];
export type LogEntry = typeof automationLog.$inferSelect;

export interface LogInput {
  siteId: string;
  event: AutomationEvent;
  message: string;
  ruleId?: string | null;
  scheduleId?: string | null;
  plantId?: string | null;
  subject?: string | null;
  details?: Record<string, unknown>;
}

export async function writeLog(db: Db, entry: LogInput, at: Date): Promise<void> {
  await db.insert(automationLog).values({
    siteId: entry.siteId,
    event: entry.event,
    message: entry.message,
    ruleId: entry.ruleId ?? null,
    scheduleId: entry.scheduleId ?? null,
    plantId: entry.plantId ?? null,
    subject: entry.subject ?? null,
    details: entry.details ?? {},
    at,
  });
}

export async function listLog(
  db: Db,
  siteId: string,
  input: { plantId?: string | undefined; ruleId?: string | undefined; scheduleId?: string | undefined; event?: AutomationEvent | undefined; cursor?: string | undefined; limit: number },
) {
  await requireSiteFilters(db, siteId, input);
  const keys = keysetOf(automationLog.at, automationLog.id);
  const conditions: (SQL | undefined)[] = [eq(automationLog.siteId, siteId), afterCursor(keys, input.cursor, "desc")];
  if (input.plantId) conditions.push(eq(automationLog.plantId, input.plantId));
  if (input.ruleId) conditions.push(eq(automationLog.ruleId, input.ruleId));
  if (input.scheduleId) conditions.push(eq(automationLog.scheduleId, input.scheduleId));
  if (input.event) conditions.push(eq(automationLog.event, input.event));
  const rows = await db
    .select()
    .from(automationLog)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "desc"))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (r) => ({ at: r.at, id: r.id }));
}
