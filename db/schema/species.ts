import { sql } from "drizzle-orm";
import { boolean, doublePrecision, index, integer, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { sites } from "./sites";

/**
 * Species: the shared catalog (`site_id` null; read-only for users, seeded from
 * db/seed/species-data.ts) and a site's own plant types (`site_id` set; its editors write them,
 * only its members see them). Care ranges are the defaults a plant inherits until its owner
 * overrides them.
 */
export const species = pgTable(
  "species",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Null for the shared catalog; the owning site for a site's own species. */
    siteId: uuid("site_id").references(() => sites.id, { onDelete: "cascade" }),
    /** Stable key, e.g. "monstera-deliciosa": unique in the catalog (the seed upserts by it) and within a site. */
    slug: text("slug").notNull(),
    scientificName: text("scientific_name").notNull(),
    commonNames: text("common_names").array().notNull(),
    family: text("family").notNull(),
    category: text("category").notNull(),
    soilMoistureMin: doublePrecision("soil_moisture_min").notNull(),
    soilMoistureMax: doublePrecision("soil_moisture_max").notNull(),
    temperatureMin: doublePrecision("temperature_min").notNull(),
    temperatureMax: doublePrecision("temperature_max").notNull(),
    humidityMin: doublePrecision("humidity_min").notNull(),
    humidityMax: doublePrecision("humidity_max").notNull(),
    lightLuxMin: doublePrecision("light_lux_min").notNull(),
    lightLuxMax: doublePrecision("light_lux_max").notNull(),
    dliMin: doublePrecision("dli_min").notNull(),
    dliMax: doublePrecision("dli_max").notNull(),
    wateringIntervalDays: integer("watering_interval_days").notNull(),
    ecMin: doublePrecision("ec_min").notNull(),
    ecMax: doublePrecision("ec_max").notNull(),
    /** Root-zone pH; null when not known (a site's species may leave it out). */
    phMin: doublePrecision("ph_min"),
    phMax: doublePrecision("ph_max"),
    /** Days between feeds in the growing season; null when not known. */
    fertilizeIntervalDays: integer("fertilize_interval_days"),
    /** Months between repottings; null when not known. */
    repotIntervalMonths: integer("repot_interval_months"),
    toxicToPets: boolean("toxic_to_pets").notNull(),
    careNotes: text("care_notes").notNull(),
    /** Lower-cased, accent-stripped names joined by spaces: what name search matches against. */
    searchText: text("search_text").notNull(),
  },
  (t) => [
    index("species_scientific_name_idx").on(t.scientificName),
    // The catalog sync upserts on this index, so it can never match (and overwrite) a site's species.
    uniqueIndex("species_catalog_slug_idx").on(t.slug).where(sql`${t.siteId} is null`),
    uniqueIndex("species_site_slug_idx").on(t.siteId, t.slug).where(sql`${t.siteId} is not null`),
  ],
);
