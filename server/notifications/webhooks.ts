import { and, eq, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { notificationDeliveries, webhookEndpoints } from "../../db/schema";
import type { AlertSeverity } from "../../shared/schemas/alerts";
import type { WebhookEvent } from "../../shared/schemas/notifications";
import { afterCursor, AppError, keysetOf, orderBy, pageOf } from "../platform";
import { membershipOf, requireSiteFilters } from "../sites";
import { generateWebhookSecret, secretHintOf } from "./signing";

/**
 * A site's webhook endpoints and their delivery log. The signing secret is returned by create and
 * rotateSecret only; every other answer shows its hint.
 */

type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type Webhook = Omit<EndpointRow, "secret">;
export type Delivery = typeof notificationDeliveries.$inferSelect;

const publicView = ({ secret: _secret, ...rest }: EndpointRow): Webhook => rest;

export interface WebhookSettings {
  name: string;
  url: string;
  events: Exclude<WebhookEvent, "test" | "digest">[];
  minSeverity: AlertSeverity;
  enabled: boolean;
  quietStart: string | null;
  quietEnd: string | null;
  criticalBypassesQuiet: boolean;
  digestTime: string | null;
  recipientUserId: string | null;
}

export async function listWebhooks(db: Db, siteId: string): Promise<Webhook[]> {
  const rows = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.siteId, siteId)).orderBy(webhookEndpoints.createdAt, webhookEndpoints.id);
  return rows.map(publicView);
}

async function requireWebhook(db: Db, siteId: string, webhookId: string): Promise<EndpointRow> {
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, webhookId), eq(webhookEndpoints.siteId, siteId)));
  if (!row) throw new AppError("NOT_FOUND", "webhook not found", { path: "webhookId" });
  return row;
}

/** An endpoint's recipient must be a member of its site (who else's quiet hours could apply?). */
async function requireRecipientMember(db: Db, siteId: string, userId: string | null | undefined): Promise<void> {
  if (!userId) return;
  if (!(await membershipOf(db, siteId, userId))) {
    throw new AppError("NOT_FOUND", "the recipient is not a member of this site", { path: "recipientUserId" });
  }
}

export async function createWebhook(
  db: Db,
  siteId: string,
  settings: WebhookSettings,
  actor: { userId: string; now: Date },
): Promise<{ webhook: Webhook; secret: string }> {
  await requireRecipientMember(db, siteId, settings.recipientUserId);
  const secret = generateWebhookSecret();
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ siteId, ...settings, secret, secretHint: secretHintOf(secret), createdBy: actor.userId, createdAt: actor.now, updatedAt: actor.now })
    .returning();
  return { webhook: publicView(row!), secret };
}

export async function updateWebhook(db: Db, siteId: string, webhookId: string, changes: Partial<WebhookSettings>, now: Date): Promise<Webhook> {
  await requireWebhook(db, siteId, webhookId);
  await requireRecipientMember(db, siteId, changes.recipientUserId);
  const [row] = await db
    .update(webhookEndpoints)
    .set({ ...changes, updatedAt: now })
    .where(and(eq(webhookEndpoints.id, webhookId), eq(webhookEndpoints.siteId, siteId)))
    .returning();
  return publicView(row!);
}

/** Deleting an endpoint deletes its delivery log and anything still queued for it. */
export async function deleteWebhook(db: Db, siteId: string, webhookId: string): Promise<{ deleted: true }> {
  await requireWebhook(db, siteId, webhookId);
  await db.delete(webhookEndpoints).where(and(eq(webhookEndpoints.id, webhookId), eq(webhookEndpoints.siteId, siteId)));
  return { deleted: true };
}

/** A new secret takes effect at once, for queued retries too: the old one stops being used. */
export async function rotateWebhookSecret(db: Db, siteId: string, webhookId: string, now: Date): Promise<{ webhook: Webhook; secret: string }> {
  await requireWebhook(db, siteId, webhookId);
  const secret = generateWebhookSecret();
  const [row] = await db
    .update(webhookEndpoints)
    .set({ secret, secretHint: secretHintOf(secret), updatedAt: now })
    .where(and(eq(webhookEndpoints.id, webhookId), eq(webhookEndpoints.siteId, siteId)))
    .returning();
  return { webhook: publicView(row!), secret };
}

/** Queues a "test" delivery to one endpoint now, whatever its filters and quiet hours say. */
export async function sendTestDelivery(db: Db, siteId: string, webhookId: string, actor: { userId: string; now: Date }): Promise<Delivery> {
  const endpoint = await requireWebhook(db, siteId, webhookId);
  const [row] = await db
    .insert(notificationDeliveries)
    .values({
      siteId,
      endpointId: endpoint.id,
      event: "test" satisfies WebhookEvent,
      severity: "info",
      payload: { message: `Test delivery to "${endpoint.name}"`, requestedBy: actor.userId, at: actor.now.toISOString() },
      nextAttemptAt: actor.now,
      createdAt: actor.now,
    })
    .returning();
  return row!;
}

/** The delivery log, newest first: status, attempts, last answer, when it is tried next. */
export async function listDeliveries(
  db: Db,
  siteId: string,
  input: { webhookId?: string | undefined; status?: Delivery["status"] | undefined; cursor?: string | undefined; limit: number },
) {
  await requireSiteFilters(db, siteId, input);
  const keys = keysetOf(notificationDeliveries.createdAt, notificationDeliveries.id);
  const conditions: (SQL | undefined)[] = [eq(notificationDeliveries.siteId, siteId), afterCursor(keys, input.cursor, "desc")];
  if (input.webhookId) conditions.push(eq(notificationDeliveries.endpointId, input.webhookId));
  if (input.status) conditions.push(eq(notificationDeliveries.status, input.status));
  const rows = await db
    .select()
    .from(notificationDeliveries)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "desc"))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (r) => ({ at: r.createdAt, id: r.id }));
}
