import { boolean, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** A site (a home, a balcony, a greenhouse) owns every other resource. */
export const sites = pgTable("sites", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** IANA time zone: schedules, reminders and daily statistics are computed in it. */
  timezone: text("timezone").notNull().default("UTC"),
  /** Marks the site created by `seed`, so re-seeding finds it instead of adding another. */
  isDemo: boolean("is_demo").notNull().default(false),
  /** Plants with sensors are watched by built-in rules (server/rules/built-in.ts) unless this is off. */
  builtInRules: boolean("built_in_rules").notNull().default(true),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
