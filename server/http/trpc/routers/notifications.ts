import { createWebhookInput, listDeliveriesInput, updateWebhookInput, webhookIdInput } from "../../../../shared/schemas/notifications";
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  rotateWebhookSecret,
  sendTestDelivery,
  updateWebhook,
} from "../../../notifications";
import { router, siteProcedure } from "../core";

/**
 * Webhook endpoints and their delivery log. Owners manage endpoints: a webhook sends the site's
 * data to any URL, and its URL often carries a credential (chat webhooks do). Editors may read
 * the endpoints (without secrets) and the log, to see why a notification did not arrive.
 */
export const notificationsRouter = router({
  webhooks: siteProcedure("editor").query(({ ctx }) => listWebhooks(ctx.stores.db, ctx.siteId)),
  /** Returns the signing secret: the only time it is shown (rotateSecret issues a new one). */
  createWebhook: siteProcedure("owner")
    .input(createWebhookInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _siteId, ...settings } = input;
      return createWebhook(ctx.stores.db, ctx.siteId, settings, { userId: ctx.user.id, now: ctx.now() });
    }),
  updateWebhook: siteProcedure("owner")
    .input(updateWebhookInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _siteId, webhookId, ...changes } = input;
      return updateWebhook(ctx.stores.db, ctx.siteId, webhookId, changes, ctx.now());
    }),
  deleteWebhook: siteProcedure("owner")
    .input(webhookIdInput)
    .mutation(({ ctx, input }) => deleteWebhook(ctx.stores.db, ctx.siteId, input.webhookId)),
  rotateSecret: siteProcedure("owner")
    .input(webhookIdInput)
    .mutation(({ ctx, input }) => rotateWebhookSecret(ctx.stores.db, ctx.siteId, input.webhookId, ctx.now())),
  /** Queues a "test" delivery now (whatever the filters and quiet hours); follow it in `deliveries`. */
  sendTest: siteProcedure("owner")
    .input(webhookIdInput)
    .mutation(({ ctx, input }) => sendTestDelivery(ctx.stores.db, ctx.siteId, input.webhookId, { userId: ctx.user.id, now: ctx.now() })),
  deliveries: siteProcedure("editor")
    .input(listDeliveriesInput)
    .query(({ ctx, input }) => listDeliveries(ctx.stores.db, ctx.siteId, input)),
});
