import { and, eq, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { species } from "../../db/schema";
import type { Page } from "../../shared/schemas/common";
import { foldForSearch } from "../../shared/text";
import { AppError, decodeOffsetCursor, encodeOffsetCursor, likeEscape } from "../platform";

type SpeciesRow = typeof species.$inferSelect;

/** A catalog entry as clients see it: care ranges grouped by what they measure. */
export function speciesView(row: SpeciesRow) {
  return {
    id: row.id,
    slug: row.slug,
    scientificName: row.scientificName,
    commonNames: row.commonNames,
    family: row.family,
    category: row.category,
    care: {
      soilMoisture: { min: row.soilMoistureMin, max: row.soilMoistureMax, unit: "%" },
      temperature: { min: row.temperatureMin, max: row.temperatureMax, unit: "°C" },
      humidity: { min: row.humidityMin, max: row.humidityMax, unit: "%RH" },
      light: { min: row.lightLuxMin, max: row.lightLuxMax, unit: "lx" },
      dli: { min: row.dliMin, max: row.dliMax, unit: "mol/m²/d" },
      ec: { min: row.ecMin, max: row.ecMax, unit: "mS/cm" },
      wateringIntervalDays: row.wateringIntervalDays,
    },
    toxicToPets: row.toxicToPets,
    careNotes: row.careNotes,
  };
}
export type SpeciesView = ReturnType<typeof speciesView>;

/**
 * How well a species' names match the folded query: 0 a name equals it, 1 a name starts with it,
 * 2 every word of the query starts a word of some name, 3 it only occurs somewhere (family too).
 */
function rankOf(row: SpeciesRow, query: string, words: string[]): number {
  const names = [row.scientificName, ...row.commonNames].map(foldForSearch);
  if (names.includes(query)) return 0;
  if (names.some((n) => n.startsWith(query))) return 1;
  const nameWords = names.flatMap((n) => n.split(/[\s'-]+/));
  if (words.every((w) => nameWords.some((nw) => nw.startsWith(w)))) return 2;
  return 3;
}

/**
 * Search by any name, case- and accent-insensitive: every query word must occur in the folded
 * names (`search_text`); results are ranked in memory (the catalog is small reference data) and
 * paginated by offset, which is stable because the catalog changes only with a release.
 */
export async function searchSpecies(
  db: Db,
  input: { query: string; category?: string | undefined; cursor?: string | undefined; limit: number },
): Promise<Page<SpeciesView>> {
  const offset = decodeOffsetCursor(input.cursor);
  const query = foldForSearch(input.query);
  const words = query.split(/\s+/).filter(Boolean);
  const conditions: SQL[] = words.map((w) => sql`${species.searchText} like ${`%${likeEscape(w)}%`} escape '\\'`);
  if (input.category) conditions.push(eq(species.category, input.category));
  const rows = await db.select().from(species).where(and(...conditions));
  const ranked = rows
    .map((row) => ({ row, rank: words.length ? rankOf(row, query, words) : 0 }))
    .sort((a, b) => a.rank - b.rank || a.row.scientificName.localeCompare(b.row.scientificName));
  const items = ranked.slice(offset, offset + input.limit).map(({ row }) => speciesView(row));
  const next = offset + input.limit;
  return { items, nextCursor: next < ranked.length ? encodeOffsetCursor(next) : null };
}

export async function getSpecies(db: Db, speciesId: string, path = "speciesId"): Promise<SpeciesView> {
  const [row] = await db.select().from(species).where(eq(species.id, speciesId));
  if (!row) throw new AppError("NOT_FOUND", "species not found", { path });
  return speciesView(row);
}
