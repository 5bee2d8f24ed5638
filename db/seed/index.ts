import { isNull, sql } from "drizzle-orm";
import { foldForSearch } from "../../shared/text";
import type { Db } from "../client";
import { species } from "../schema";
import { ensureDemoSite } from "./demo";
import { speciesCare } from "./species-care";
import { speciesCatalog } from "./species-data";
import type { SpeciesSeed } from "./species-types";

export { DEMO_SITE_NAME, ensureDemoSite } from "./demo";

function speciesRow(s: SpeciesSeed) {
  const care = speciesCare[s.slug];
  return {
    slug: s.slug,
    scientificName: s.scientificName,
    commonNames: s.commonNames,
    family: s.family,
    category: s.category,
    soilMoistureMin: s.soilMoisture[0],
    soilMoistureMax: s.soilMoisture[1],
    temperatureMin: s.temperature[0],
    temperatureMax: s.temperature[1],
    humidityMin: s.humidity[0],
    humidityMax: s.humidity[1],
    lightLuxMin: s.lightLux[0],
    lightLuxMax: s.lightLux[1],
    dliMin: s.dli[0],
    dliMax: s.dli[1],
    wateringIntervalDays: s.wateringIntervalDays,
    ecMin: s.ec[0],
    ecMax: s.ec[1],
    phMin: care?.ph[0] ?? null,
    phMax: care?.ph[1] ?? null,
    fertilizeIntervalDays: care?.fertilizeIntervalDays ?? null,
    repotIntervalMonths: care?.repotIntervalMonths ?? null,
    toxicToPets: s.toxicToPets,
    careNotes: s.careNotes,
    searchText: foldForSearch([s.scientificName, ...s.commonNames, s.family].join(" ")),
  };
}

/**
 * The catalog is reference data shipped with the code: upserted by slug on every start, so a
 * corrected care range reaches existing installations and plants keep pointing at the same row.
 * Only catalog rows (`site_id` null) take part: the conflict target is the catalog's own partial
 * unique index and the update is limited to catalog rows, so a site's own species, even one with
 * a catalog slug, is never matched, changed or removed.
 */
export async function syncSpeciesCatalog(db: Db, catalog: SpeciesSeed[] = speciesCatalog): Promise<number> {
  if (catalog.length === 0) return 0;
  const rows = catalog.map(speciesRow);
  await db
    .insert(species)
    .values(rows)
    .onConflictDoUpdate({
      target: species.slug,
      targetWhere: isNull(species.siteId),
      setWhere: isNull(species.siteId),
      set: Object.fromEntries(
        Object.keys(rows[0]!)
          .filter((key) => key !== "slug")
          .map((key) => {
            const column = species[key as keyof typeof species.$inferInsert];
            return [key, sql.raw(`excluded.${column.name}`)];
          }),
      ),
    });
  return rows.length;
}

export async function seed(db: Db): Promise<{ species: number; demoSiteId: string; demoSiteCreated: boolean }> {
  const speciesCount = await syncSpeciesCatalog(db);
  const demo = await ensureDemoSite(db);
  return { species: speciesCount, demoSiteId: demo.id, demoSiteCreated: demo.created };
}
