import { boolean, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** A site (a home, a balcony, a greenhouse) owns every other resource. */
export const sites = pgTable("sites", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** IANA time zone: schedules, reminders and daily statistics are computed in it. */
  timezone: text("timezone").notNull().default("UTC"),
  /** Marks the site created by `seed`, so re-seeding finds it instead of adding another. */
  isDemo: boolean("is_demo").notNull().default(false),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
