import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { notificationDeliveries, sites, users, webhookEndpoints } from "../../db/schema";
import type { AlertSeverity } from "../../shared/schemas/alerts";
import type { WebhookEvent } from "../../shared/schemas/notifications";
import { heldUntil } from "./quiet-hours";

/**
 * Writing notifications into the outbox. Callers pass the transaction that makes the change the
 * notification is about (an alert raised, resolved), so both commit together or not at all; the
 * dispatcher sends them afterwards. One row per matching endpoint: its event filter, its minimum
 * severity, and its quiet hours (a held notification waits in the outbox until they end).
 */

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };
/** The endpoint's recipient's quiet hours, selected beside the endpoint (left join on users). */
export const recipientQuietHours = { quietStart: users.quietStart, quietEnd: users.quietEnd, quietTimezone: users.quietTimezone };

export const severityAtLeast = (severity: AlertSeverity, min: AlertSeverity) => SEVERITY_RANK[severity] >= SEVERITY_RANK[min];

export interface SiteNotification {
  siteId: string;
  event: Exclude<WebhookEvent, "test" | "digest">;
  severity: AlertSeverity;
  data: Record<string, unknown>;
}

/** Queues a notification for every enabled endpoint of the site that wants it; returns how many. */
export async function enqueueForSite(db: Db, notification: SiteNotification, now: Date): Promise<number> {
  const endpoints = await db
    .select({ endpoint: webhookEndpoints, timezone: sites.timezone, recipient: recipientQuietHours })
    .from(webhookEndpoints)
    .innerJoin(sites, eq(sites.id, webhookEndpoints.siteId))
    .leftJoin(users, eq(users.id, webhookEndpoints.recipientUserId))
    .where(
      and(
        eq(webhookEndpoints.siteId, notification.siteId),
        eq(webhookEndpoints.enabled, true),
        sql`${notification.event} = any(${webhookEndpoints.events})`,
      ),
    );
  const rows = endpoints
    .filter(({ endpoint }) => severityAtLeast(notification.severity, endpoint.minSeverity))
    .map(({ endpoint, timezone, recipient }) => {
      const held = heldUntil(now, notification.severity, endpoint, timezone, recipient);
      return {
        siteId: notification.siteId,
        endpointId: endpoint.id,
        event: notification.event,
        severity: notification.severity,
        payload: notification.data,
        nextAttemptAt: held ?? now,
        heldUntil: held,
        createdAt: now,
      };
    });
  if (rows.length > 0) await db.insert(notificationDeliveries).values(rows);
  return rows.length;
}

export interface Notification {
  siteId: string;
  severity: AlertSeverity;
  title: string;
  message: string | null;
  plantId: string | null;
  /** Who sent it, e.g. "automation:<rule id>". */
  source: string;
}

/** An explicit notification (the automation's "notify" action): sent to the site's webhooks. */
export async function enqueueNotification(db: Db, notification: Notification, now: Date): Promise<number> {
  return enqueueForSite(
    db,
    {
      siteId: notification.siteId,
      event: "notification",
      severity: notification.severity,
      data: {
        severity: notification.severity,
        title: notification.title,
        message: notification.message,
        plantId: notification.plantId,
        source: notification.source,
        at: now.toISOString(),
      },
    },
    now,
  );
}
