/**
 * Notifications: the outbox (enqueue), webhook endpoints and their delivery log (webhooks), quiet
 * hours and signing. The dispatcher that sends and the daily digest run in
 * server/pipelines/notifications.
 */
export { enqueueForSite, enqueueNotification, recipientQuietHours, severityAtLeast, type Notification } from "./enqueue";
export { heldUntil, setUserQuietHours, userQuietHours } from "./quiet-hours";
export { SIGNATURE_HEADER, signatureHeader } from "./signing";
export { createWebhook, deleteWebhook, listDeliveries, listWebhooks, rotateWebhookSecret, sendTestDelivery, updateWebhook } from "./webhooks";
