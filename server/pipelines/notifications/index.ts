/** Sending notifications: the webhook dispatcher (retries, backoff, quiet hours) and the daily digest. */
export { backoffMs, NotificationDispatcher, type DispatcherConfig, type DispatcherDeps, type TickResult } from "./dispatcher";
export { enqueueDueDigests, siteSummary } from "./digest";
