import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { sites } from "./sites";

/** A device (an ESP32, a Raspberry Pi, a pump controller) that posts readings with its own token. */
export const devices = pgTable(
  "devices",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** SHA-256 (hex) of the device token; the token is shown once, at provisioning or rotation. */
    tokenHash: text("token_hash").notNull().unique(),
    /** The first characters of the token, so a person can tell which token a device holds. */
    tokenHint: text("token_hint").notNull(),
    tokenRotatedAt: timestamp("token_rotated_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("devices_site_id_idx").on(t.siteId)],
);
