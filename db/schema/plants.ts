import { boolean, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { sites } from "./sites";
import { species } from "./species";

export const potMaterial = pgEnum("pot_material", ["plastic", "terracotta", "ceramic", "glazed", "fabric", "wood", "metal", "concrete", "other"]);

/**
 * Per-plant overrides of the species' care ranges, by metric: e.g. { soil_moisture: { min: 35 } }.
 * A value absent here falls back to the species.
 */
export type ThresholdOverrides = Partial<Record<string, { min?: number; max?: number }>>;

export const plants = pgTable(
  "plants",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    speciesId: uuid("species_id").references(() => species.id, { onDelete: "set null" }),
    location: text("location"),
    potSizeCm: integer("pot_size_cm"),
    potMaterial: potMaterial("pot_material"),
    indoor: boolean("indoor").notNull().default(true),
    photoUrl: text("photo_url"),
    notes: text("notes"),
    /** Days between waterings; null uses the species' interval. */
    wateringIntervalDays: integer("watering_interval_days"),
    /** When the plant was last repotted, if its owner said so (completed repot tasks count too). */
    repottedAt: timestamp("repotted_at", { withTimezone: true }),
    thresholdOverrides: jsonb("threshold_overrides").$type<ThresholdOverrides>().notNull().default({}),
    archivedAt: timestamp("archived_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("plants_site_id_idx").on(t.siteId)],
);
