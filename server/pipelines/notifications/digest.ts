import { and, count, eq, gte, inArray, isNotNull, lt, ne, sql, sum } from "drizzle-orm";
import type { Db } from "../../../db/client";
import { alerts, commands, notificationDeliveries, sites, waterings, webhookEndpoints } from "../../../db/schema";
import type { WebhookEvent } from "../../../shared/schemas/notifications";
import { toWallClock } from "../../../shared/zoned-time";

/**
 * The daily digest: at an endpoint's `digestTime` (local to the site), a summary of the last 24
 * hours goes out through that endpoint. Its outbox row carries the key "digest:<local date>",
 * unique per endpoint, so however many servers check at once, one digest per day is queued.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Queues the digests that are due and not yet queued today; returns how many were queued. */
export async function enqueueDueDigests(db: Db, now: Date): Promise<number> {
  const candidates = await db
    .select({ id: webhookEndpoints.id, siteId: webhookEndpoints.siteId, digestTime: webhookEndpoints.digestTime, timezone: sites.timezone, siteName: sites.name })
    .from(webhookEndpoints)
    .innerJoin(sites, eq(sites.id, webhookEndpoints.siteId))
    .where(and(eq(webhookEndpoints.enabled, true), isNotNull(webhookEndpoints.digestTime)));
  const due = candidates
    .map((c) => {
      const wall = toWallClock(now, c.timezone).toISOString(); // "YYYY-MM-DDTHH:MM…" in local time
      return { ...c, localDate: wall.slice(0, 10), localTime: wall.slice(11, 16) };
    })
    .filter((c) => c.localTime >= c.digestTime!);
  if (due.length === 0) return 0;
  const queued = await db
    .select({ endpointId: notificationDeliveries.endpointId, dedupKey: notificationDeliveries.dedupKey })
    .from(notificationDeliveries)
    .where(and(inArray(notificationDeliveries.endpointId, due.map((d) => d.id)), inArray(notificationDeliveries.dedupKey, [...new Set(due.map((d) => `digest:${d.localDate}`))])));
  const already = new Set(queued.map((q) => `${q.endpointId}|${q.dedupKey}`));
  let added = 0;
  for (const endpoint of due) {
    const dedupKey = `digest:${endpoint.localDate}`;
    if (already.has(`${endpoint.id}|${dedupKey}`)) continue;
    const summary = await siteSummary(db, endpoint.siteId, new Date(now.getTime() - DAY_MS), now);
    const inserted = await db
      .insert(notificationDeliveries)
      .values({
        siteId: endpoint.siteId,
        endpointId: endpoint.id,
        event: "digest" satisfies WebhookEvent,
        severity: "info",
        dedupKey,
        payload: { date: endpoint.localDate, timezone: endpoint.timezone, site: { id: endpoint.siteId, name: endpoint.siteName }, ...summary },
        nextAttemptAt: now,
        createdAt: now,
      })
      // Another server queued it first: that one counts.
      .onConflictDoNothing()
      .returning({ id: notificationDeliveries.id });
    added += inserted.length;
  }
  return added;
}

/** What happened in a site between `from` and `to`. */
export async function siteSummary(db: Db, siteId: string, from: Date, to: Date) {
  const inWindow = (column: Parameters<typeof gte>[0]) => and(gte(column, from), lt(column, to));
  const opened = await db
    .select({ severity: alerts.severity, n: count() })
    .from(alerts)
    .where(and(eq(alerts.siteId, siteId), inWindow(alerts.createdAt)))
    .groupBy(alerts.severity);
  const [resolved] = await db.select({ n: count() }).from(alerts).where(and(eq(alerts.siteId, siteId), inWindow(alerts.resolvedAt)));
  const open = await db
    .select({ id: alerts.id, title: alerts.title, severity: alerts.severity, plantId: alerts.plantId, firstSeenAt: alerts.firstSeenAt })
    .from(alerts)
    .where(and(eq(alerts.siteId, siteId), ne(alerts.status, "resolved")))
    .orderBy(sql`case ${alerts.severity} when 'critical' then 0 when 'warning' then 1 else 2 end`, alerts.firstSeenAt)
    .limit(20);
  const [openCount] = await db.select({ n: count() }).from(alerts).where(and(eq(alerts.siteId, siteId), ne(alerts.status, "resolved")));
  const wateringRows = await db
    .select({ status: waterings.status, n: count(), volumeMl: sum(waterings.volumeMl) })
    .from(waterings)
    .where(and(eq(waterings.siteId, siteId), inWindow(waterings.startedAt)))
    .groupBy(waterings.status);
  const commandRows = await db
    .select({ status: commands.status, n: count() })
    .from(commands)
    .where(and(eq(commands.siteId, siteId), inWindow(commands.createdAt)))
    .groupBy(commands.status);
  const bySeverity = Object.fromEntries(opened.map((r) => [r.severity, r.n]));
  const completed = wateringRows.find((r) => r.status === "completed");
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    alerts: {
      opened: opened.reduce((n, r) => n + r.n, 0),
      openedBySeverity: { info: bySeverity.info ?? 0, warning: bySeverity.warning ?? 0, critical: bySeverity.critical ?? 0 },
      resolved: resolved?.n ?? 0,
      openNow: openCount?.n ?? 0,
      open: open.map((a) => ({ ...a, firstSeenAt: a.firstSeenAt.toISOString() })),
    },
    waterings: {
      total: wateringRows.reduce((n, r) => n + r.n, 0),
      completed: completed?.n ?? 0,
      failed: wateringRows.find((r) => r.status === "failed")?.n ?? 0,
      volumeMl: Number(completed?.volumeMl ?? 0),
    },
    commands: {
      total: commandRows.reduce((n, r) => n + r.n, 0),
      byStatus: Object.fromEntries(commandRows.map((r) => [r.status, r.n])),
    },
  };
}
