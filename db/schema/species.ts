import { boolean, doublePrecision, index, integer, pgTable, text, uuid } from "drizzle-orm/pg-core";

/**
 * The species catalog: read-only for users, seeded from db/seed/species-data.ts.
 * Care ranges are the defaults a plant inherits until its owner overrides them.
 */
export const species = pgTable(
  "species",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Stable key used by the seed to upsert, e.g. "monstera-deliciosa". */
    slug: text("slug").notNull().unique(),
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
    toxicToPets: boolean("toxic_to_pets").notNull(),
    careNotes: text("care_notes").notNull(),
    /** Lower-cased, accent-stripped names joined by spaces: what name search matches against. */
    searchText: text("search_text").notNull(),
  },
  (t) => [index("species_scientific_name_idx").on(t.scientificName)],
);
