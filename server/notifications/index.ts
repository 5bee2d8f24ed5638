/**
 * Notifications: the outbox (enqueue), webhook endpoints and their log (webhooks), the dispatcher
 * that sends, the daily digest. What other parts of the server call goes through here.
 */
export { enqueueNotification, type Notification } from "./enqueue";
export { NotificationDispatcher, type DispatcherConfig, type TickResult } from "./dispatcher";
export { enqueueDueDigests, siteSummary } from "./digest";
