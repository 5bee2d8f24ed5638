import { and, eq, inArray, isNull, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { alerts } from "../../db/schema";
import type { AlertSeverity } from "../../shared/schemas/alerts";
import { afterCursor, announceAlert, AppError, keysetOf, orderBy, pageOf } from "../platform";
import { enqueueForSite, severityAtLeast } from "../notifications";
import { requireSiteFilters } from "../sites";

/**
 * Alerts: raised by rules (the automation), acknowledged and resolved by people. One unresolved
 * alert per dedup key (rule + subject) and site, enforced by a partial unique index: a condition
 * that keeps firing bumps the open alert's occurrence count and last-seen time.
 *
 * Each change is announced to live views (Postgres NOTIFY) and, when it is news (a new alert, a
 * severity that rose, a resolution), queued for the site's webhooks, all in the transaction that
 * makes the change: a crash cannot leave an alert whose notification was lost.
 */

export type Alert = typeof alerts.$inferSelect;

export interface RaiseAlert {
  siteId: string;
  /** The rule that fired, e.g. "soil_moisture.low". */
  rule: string;
  /** What it fired about, e.g. a plant or sensor id: with the rule, the dedup key. */
  subject: string;
  severity: AlertSeverity;
  title: string;
  message?: string | null;
  plantId?: string | null;
  deviceId?: string | null;
  sensorId?: string | null;
  /** A rule's alert keeps its numbers: which rule, what it measured, the value that fired against which bound. */
  numbers?: AlertNumbers;
}

export interface AlertNumbers {
  ruleId: string;
  metric: string | null;
  value: number;
  bound: number;
  direction: "below" | "above";
  /** When the value was measured (epoch ms). */
  at: number;
}

export const dedupKeyOf = (rule: string, subject: string) => `${rule}|${subject}`;

/** What webhooks receive about an alert. */
function alertPayload(alert: Alert) {
  return {
    alertId: alert.id,
    rule: alert.rule,
    subject: alert.subject,
    severity: alert.severity,
    status: alert.status,
    title: alert.title,
    message: alert.message,
    plantId: alert.plantId,
    deviceId: alert.deviceId,
    sensorId: alert.sensorId,
    ruleId: alert.ruleId,
    metric: alert.metric,
    triggeredValue: alert.triggeredValue,
    bound: alert.bound,
    direction: alert.direction,
    firstValue: alert.firstValue,
    lastValue: alert.lastValue,
    occurrences: alert.occurrences,
    firstSeenAt: alert.firstSeenAt.toISOString(),
    lastSeenAt: alert.lastSeenAt.toISOString(),
    resolvedAt: alert.resolvedAt?.toISOString() ?? null,
  };
}

const announce = (db: Db, alert: Alert, change: "raised" | "acknowledged" | "resolved", now: Date) =>
  announceAlert(db, {
    siteId: alert.siteId,
    alertId: alert.id,
    change,
    rule: alert.rule,
    subject: alert.subject,
    severity: alert.severity,
    status: alert.status,
    title: alert.title,
    plantId: alert.plantId,
    occurrences: alert.occurrences,
    at: now.getTime(),
  });

/** Announces a resolution and queues its notification; inside the resolving transaction. */
async function afterResolve(db: Db, alert: Alert, now: Date): Promise<void> {
  await announce(db, alert, "resolved", now);
  await enqueueForSite(db, { siteId: alert.siteId, event: "alert.resolved", severity: alert.severity, data: alertPayload(alert) }, now);
}

/**
 * Raises an alert, or records another occurrence of the open one with the same dedup key (its
 * severity, title and message take the latest values). Atomic, so concurrent raises cannot open
 * two alerts for one condition. `created` tells whether a new alert was opened.
 */
export async function raiseAlert(db: Db, input: RaiseAlert, now: Date): Promise<{ alert: Alert; created: boolean }> {
  const dedupKey = dedupKeyOf(input.rule, input.subject);
  const n = input.numbers;
  const numbers = n
    ? { ruleId: n.ruleId, metric: n.metric, triggeredValue: n.value, bound: n.bound, direction: n.direction, lastValue: n.value, lastValueAt: new Date(n.at) }
    : {};
  return db.transaction(async (tx) => {
    // Locked, so concurrent raises see each other's severity when deciding about escalation.
    const [before] = await tx
      .select({ severity: alerts.severity })
      .from(alerts)
      .where(and(eq(alerts.siteId, input.siteId), eq(alerts.dedupKey, dedupKey), ne(alerts.status, "resolved")))
      .for("update");
    const [row] = await tx
      .insert(alerts)
      .values({
        siteId: input.siteId,
        rule: input.rule,
        subject: input.subject,
        dedupKey,
        severity: input.severity,
        title: input.title,
        message: input.message ?? null,
        plantId: input.plantId ?? null,
        deviceId: input.deviceId ?? null,
        sensorId: input.sensorId ?? null,
        ...numbers,
        firstValue: n?.value ?? null,
        firstSeenAt: now,
        lastSeenAt: now,
        createdAt: now,
      })
      .onConflictDoUpdate({
        target: [alerts.siteId, alerts.dedupKey],
        // Must repeat the partial index's predicate for Postgres to pick that index.
        targetWhere: sql.raw(`status <> 'resolved'`),
        set: {
          occurrences: sql`${alerts.occurrences} + 1`,
          lastSeenAt: now,
          severity: input.severity,
          title: input.title,
          message: input.message ?? null,
          // Fired again while open: the newest firing's numbers; the first value stays.
          ...numbers,
        },
      })
      .returning();
    const alert = row!;
    const created = alert.occurrences === 1;
    const escalated = !created && before !== undefined && !severityAtLeast(before.severity, alert.severity);
    await announce(tx as unknown as Db, alert, "raised", now);
    // A condition that keeps firing is not news; a new alert or a rise in severity is.
    if (created || escalated) {
      await enqueueForSite(
        tx as unknown as Db,
        { siteId: alert.siteId, event: "alert.raised", severity: alert.severity, data: { ...alertPayload(alert), escalatedFrom: escalated ? before!.severity : null } },
        now,
      );
    }
    return { alert, created };
  });
}

/**
 * While a rule's alert is open, the latest value judged (a late reading older than the one recorded
 * does not overwrite it). Only the open alert of this rule and subject is touched.
 */
export async function noteAlertValue(db: Db, input: { siteId: string; rule: string; subject: string }, value: number, at: number): Promise<void> {
  const measuredAt = new Date(at);
  await db
    .update(alerts)
    .set({ lastValue: value, lastValueAt: measuredAt })
    .where(
      and(
        eq(alerts.siteId, input.siteId),
        eq(alerts.dedupKey, dedupKeyOf(input.rule, input.subject)),
        ne(alerts.status, "resolved"),
        or(isNull(alerts.lastValueAt), lt(alerts.lastValueAt, measuredAt)),
      ),
    );
}

/**
 * The automation's "condition cleared": resolves the open alert of this rule and subject, if any;
 * `cleared` is the value that cleared it, kept as the alert's last value.
 */
export async function resolveAlertByKey(
  db: Db,
  input: { siteId: string; rule: string; subject: string; cleared?: { value: number; at: number } },
  now: Date,
): Promise<Alert | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(alerts)
      .set({
        status: "resolved",
        resolvedAt: now,
        resolvedBy: null,
        ...(input.cleared ? { lastValue: input.cleared.value, lastValueAt: new Date(input.cleared.at) } : {}),
      })
      .where(and(eq(alerts.siteId, input.siteId), eq(alerts.dedupKey, dedupKeyOf(input.rule, input.subject)), ne(alerts.status, "resolved")))
      .returning();
    if (row) await afterResolve(tx as unknown as Db, row, now);
    return row ?? null;
  });
}

export async function listAlerts(
  db: Db,
  siteId: string,
  input: {
    plantId?: string | undefined;
    metric?: string | undefined;
    severity?: AlertSeverity | undefined;
    status?: Alert["status"] | undefined;
    cursor?: string | undefined;
    limit: number;
  },
) {
  await requireSiteFilters(db, siteId, input);
  const keys = keysetOf(alerts.createdAt, alerts.id);
  const conditions: (SQL | undefined)[] = [eq(alerts.siteId, siteId), afterCursor(keys, input.cursor, "desc")];
  if (input.plantId) conditions.push(eq(alerts.plantId, input.plantId));
  if (input.metric) conditions.push(eq(alerts.metric, input.metric));
  if (input.severity) conditions.push(eq(alerts.severity, input.severity));
  if (input.status) conditions.push(eq(alerts.status, input.status));
  const rows = await db
    .select()
    .from(alerts)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "desc"))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (r) => ({ at: r.createdAt, id: r.id }));
}

export async function getAlert(db: Db, siteId: string, alertId: string): Promise<Alert> {
  const [row] = await db
    .select()
    .from(alerts)
    .where(and(eq(alerts.id, alertId), eq(alerts.siteId, siteId)));
  if (!row) throw new AppError("NOT_FOUND", "alert not found", { path: "alertId" });
  return row;
}

/** An active alert becomes acknowledged: someone is on it. It stays open until resolved. */
export async function acknowledgeAlert(db: Db, siteId: string, alertId: string, actor: { userId: string; now: Date }): Promise<Alert> {
  const current = await getAlert(db, siteId, alertId);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(alerts)
      .set({ status: "acknowledged", acknowledgedAt: actor.now, acknowledgedBy: actor.userId })
      .where(and(eq(alerts.id, current.id), eq(alerts.status, "active")))
      .returning();
    if (!row) throw new AppError("CONFLICT", `an ${current.status} alert cannot be acknowledged`, { path: "alertId" });
    await announce(tx as unknown as Db, row, "acknowledged", actor.now);
    return row;
  });
}

/** Resolving closes the alert; the same condition firing again opens a new one. */
export async function resolveAlert(db: Db, siteId: string, alertId: string, actor: { userId: string; now: Date }): Promise<Alert> {
  const current = await getAlert(db, siteId, alertId);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(alerts)
      .set({ status: "resolved", resolvedAt: actor.now, resolvedBy: actor.userId })
      .where(and(eq(alerts.id, current.id), ne(alerts.status, "resolved")))
      .returning();
    if (!row) throw new AppError("CONFLICT", "the alert is already resolved", { path: "alertId" });
    await afterResolve(tx as unknown as Db, row, actor.now);
    return row;
  });
}

/**
 * The named alerts of this site, locked for the transaction, in the order named (duplicates once).
 * Any id that is not an alert of this site is NOT_FOUND on its own index, before anything changes.
 */
async function lockAlerts(tx: Db, siteId: string, alertIds: string[]): Promise<Alert[]> {
  const ids = [...new Set(alertIds)];
  const rows = await tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.siteId, siteId), inArray(alerts.id, ids)))
    .for("update");
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = alertIds.findIndex((id) => !byId.has(id));
  if (missing >= 0) throw new AppError("NOT_FOUND", "alert not found", { path: `alertIds.${missing}` });
  return ids.map((id) => byId.get(id)!);
}

/**
 * Acknowledges many alerts at once (an inbox selection). Active ones become acknowledged; the
 * others are left as they are, because in a shared inbox someone (or the automation) may have
 * acknowledged or resolved one since the list was drawn, and that must not undo the whole
 * selection. Returns every named alert as it is afterwards, in the order named.
 */
export async function acknowledgeAlerts(db: Db, siteId: string, alertIds: string[], actor: { userId: string; now: Date }): Promise<Alert[]> {
  return db.transaction(async (tx) => {
    const current = await lockAlerts(tx as unknown as Db, siteId, alertIds);
    const ids = current.filter((a) => a.status === "active").map((a) => a.id);
    if (ids.length === 0) return current;
    const changed = await tx
      .update(alerts)
      .set({ status: "acknowledged", acknowledgedAt: actor.now, acknowledgedBy: actor.userId })
      .where(and(eq(alerts.siteId, siteId), inArray(alerts.id, ids)))
      .returning();
    for (const row of changed) await announce(tx as unknown as Db, row, "acknowledged", actor.now);
    const byId = new Map(changed.map((r) => [r.id, r]));
    return current.map((a) => byId.get(a.id) ?? a);
  });
}

/** Resolves many alerts at once; already resolved ones are left as they are (see acknowledgeAlerts). */
export async function resolveAlerts(db: Db, siteId: string, alertIds: string[], actor: { userId: string; now: Date }): Promise<Alert[]> {
  return db.transaction(async (tx) => {
    const current = await lockAlerts(tx as unknown as Db, siteId, alertIds);
    const ids = current.filter((a) => a.status !== "resolved").map((a) => a.id);
    if (ids.length === 0) return current;
    const changed = await tx
      .update(alerts)
      .set({ status: "resolved", resolvedAt: actor.now, resolvedBy: actor.userId })
      .where(and(eq(alerts.siteId, siteId), inArray(alerts.id, ids)))
      .returning();
    for (const row of changed) await afterResolve(tx as unknown as Db, row, actor.now);
    const byId = new Map(changed.map((r) => [r.id, r]));
    return current.map((a) => byId.get(a.id) ?? a);
  });
}
