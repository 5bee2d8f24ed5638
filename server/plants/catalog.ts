import { and, eq, isNull, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { species } from "../../db/schema";
import type { Page } from "../../shared/schemas/common";
import { foldForSearch } from "../../shared/text";
import { AppError, decodeOffsetCursor, encodeOffsetCursor, likeEscape } from "../platform";

type SpeciesRow = typeof species.$inferSelect;

/** A species as clients see it: care ranges grouped by what they measure; `siteId` null for the shared catalog. */
export function speciesView(row: SpeciesRow) {
  return {
    id: row.id,
    siteId: row.siteId,
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
      ph: row.phMin !== null && row.phMax !== null ? { min: row.phMin, max: row.phMax, unit: "pH" } : null,
      wateringIntervalDays: row.wateringIntervalDays,
      fertilizeIntervalDays: row.fertilizeIntervalDays,
      repotIntervalMonths: row.repotIntervalMonths,
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

/** The species a caller may see: the catalog, and with a site the site's own too. */
function visibleTo(siteId: string | null | undefined): SQL {
  return siteId ? or(isNull(species.siteId), eq(species.siteId, siteId))! : isNull(species.siteId);
}

/**
 * Search by any name, case- and accent-insensitive: every query word must occur in the folded
 * names (`search_text`); results are ranked in memory (the catalog is small reference data) and
 * paginated by offset, which is stable because the catalog changes only with a release. With a
 * site, its own species are searched too, and come first among equally good matches.
 */
export async function searchSpecies(
  db: Db,
  input: { query: string; category?: string | undefined; cursor?: string | undefined; limit: number; siteId?: string | null | undefined },
): Promise<Page<SpeciesView>> {
  const offset = decodeOffsetCursor(input.cursor);
  const query = foldForSearch(input.query);
  const words = query.split(/\s+/).filter(Boolean);
  const conditions: SQL[] = words.map((w) => sql`${species.searchText} like ${`%${likeEscape(w)}%`} escape '\\'`);
  if (input.category) conditions.push(eq(species.category, input.category));
  conditions.push(visibleTo(input.siteId));
  const rows = await db.select().from(species).where(and(...conditions));
  const ranked = rows
    .map((row) => ({ row, rank: words.length ? rankOf(row, query, words) : 0 }))
    .sort(
      (a, b) =>
        a.rank - b.rank ||
        Number(a.row.siteId === null) - Number(b.row.siteId === null) ||
        a.row.scientificName.localeCompare(b.row.scientificName) ||
        a.row.id.localeCompare(b.row.id),
    );
  const items = ranked.slice(offset, offset + input.limit).map(({ row }) => speciesView(row));
  const next = offset + input.limit;
  return { items, nextCursor: next < ranked.length ? encodeOffsetCursor(next) : null };
}

/** A species the site may use: the catalog's or its own; another site's is "not found", like a missing one. */
export async function requireVisibleSpecies(db: Db, siteId: string | null | undefined, speciesId: string, path = "speciesId"): Promise<SpeciesRow> {
  const [row] = await db
    .select()
    .from(species)
    .where(and(eq(species.id, speciesId), visibleTo(siteId)));
  if (!row) throw new AppError("NOT_FOUND", "species not found", { path });
  return row;
}

export async function getSpecies(db: Db, speciesId: string, siteId?: string | null, path = "speciesId"): Promise<SpeciesView> {
  return speciesView(await requireVisibleSpecies(db, siteId, speciesId, path));
}
