import { index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { sites } from "./sites";

export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Normalized (trimmed, lower-cased) so uniqueness is case-insensitive. */
  email: text("email").notNull().unique(),
  displayName: text("display_name").notNull(),
  /** argon2id, from Bun.password. */
  passwordHash: text("password_hash").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  passwordChangedAt: timestamp("password_changed_at", { withTimezone: true }).notNull().defaultNow(),
  /**
   * The user's quiet hours: local "HH:MM" times (both or neither), in `quietTimezone` (null: the
   * zone of the site a notification is about). Webhook endpoints that name this user as their
   * recipient hold non-critical notifications until they end.
   */
  quietStart: text("quiet_start"),
  quietEnd: text("quiet_end"),
  quietTimezone: text("quiet_timezone"),
});

/**
 * Sessions as in Lucia's session guide: the id is the SHA-256 of the token, so a leaked table
 * cannot be replayed; the token itself exists only in the client's cookie or header.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId)],
);

export const siteRole = pgEnum("site_role", ["owner", "editor", "viewer"]);

export const siteMembers = pgTable(
  "site_members",
  {
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: siteRole("role").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.userId] }), index("site_members_user_id_idx").on(t.userId)],
);

/**
 * Failed logins per key ("email:…" or "ip:…"), kept in Postgres so throttling holds across
 * restarts and across several servers.
 */
export const loginThrottle = pgTable("login_throttle", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull(),
  lastFailureAt: timestamp("last_failure_at", { withTimezone: true }).notNull(),
  blockedUntil: timestamp("blocked_until", { withTimezone: true }),
});
