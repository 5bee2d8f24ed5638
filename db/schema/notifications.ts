import { bigserial, boolean, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./accounts";
import { alertSeverity } from "./alerts";
import { sites } from "./sites";

/**
 * A site's webhook endpoints. `secret` is the HMAC-SHA256 signing key: unlike a password it must be
 * usable, not just checkable, so it is stored as issued (shown to the owner once, at creation and
 * rotation). Quiet hours apply per endpoint (a shared chat channel's) and per person: an endpoint
 * that reaches one member (their phone's push relay) names them as `recipientUserId`, and then
 * that member's own quiet hours hold its notifications too.
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    url: text("url").notNull(),
    secret: text("secret").notNull(),
    /** The secret's first characters, to tell secrets apart in lists. */
    secretHint: text("secret_hint").notNull(),
    /** Event types sent: alert.raised, alert.resolved, notification (the digest follows digestTime). */
    events: text("events").array().notNull(),
    /** Alerts and notifications below this severity are not sent. */
    minSeverity: alertSeverity("min_severity").notNull().default("info"),
    enabled: boolean("enabled").notNull().default(true),
    /** Local "HH:MM" in the site's time zone; both set = quiet hours, held until they end. */
    quietStart: text("quiet_start"),
    quietEnd: text("quiet_end"),
    /** Whether critical notifications go out during quiet hours anyway. */
    criticalBypassesQuiet: boolean("critical_bypasses_quiet").notNull().default(true),
    /** Local "HH:MM" for the daily digest; null = no digest. */
    digestTime: text("digest_time"),
    /** The member this endpoint reaches, whose quiet hours (users.quiet_*) apply to it as well. */
    recipientUserId: uuid("recipient_user_id").references(() => users.id, { onDelete: "set null" }),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("webhook_endpoints_site_idx").on(t.siteId)],
);

export const deliveryStatus = pgEnum("notification_delivery_status", ["pending", "delivered", "failed"]);

/**
 * The outbox: one row per notification and endpoint, written in the transaction that caused it,
 * so a crash loses nothing. Dispatchers on any server claim due rows (`lockedUntil`), POST them and
 * record the outcome; a failed attempt is rescheduled with backoff until `attempts` reaches the
 * limit. The row is also the delivery log people read.
 */
export const notificationDeliveries = pgTable(
  "notification_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Queueing order: an endpoint gets its notifications in this order (raised before resolved). */
    seq: bigserial("seq", { mode: "number" }).notNull(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    severity: alertSeverity("severity").notNull(),
    /** Makes a notification once-only per endpoint, e.g. "digest:2026-03-01". */
    dedupKey: text("dedup_key"),
    /** The `data` of the JSON body. */
    payload: jsonb("payload").notNull(),
    status: deliveryStatus("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull(),
    /** Set when quiet hours held the notification back: until when. */
    heldUntil: timestamp("held_until", { withTimezone: true }),
    /** A dispatcher's claim; another may take the row over once it passes (crashed mid-send). */
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true }),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("notification_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("notification_deliveries_site_created_idx").on(t.siteId, t.createdAt),
    uniqueIndex("notification_deliveries_dedup_idx").on(t.endpointId, t.dedupKey),
  ],
);
