import { and, count, eq, ne } from "drizzle-orm";
import type { Db } from "../../db/client";
import { plants, species } from "../../db/schema";
import type { CreateSpeciesInput, SpeciesCareInput, UpdateSpeciesInput } from "../../shared/schemas/catalog";
import { foldForSearch } from "../../shared/text";
import { AppError } from "../platform";
import { requireVisibleSpecies, speciesView } from "./catalog";

/**
 * A site's own plant types: the same fields as the catalog, written by the site's editors, seen
 * only by its members (`species.search` / `species.get` with its `siteId`) and usable for its
 * plants. The catalog sync never touches them (db/seed: it upserts on the catalog's own index).
 */

type SpeciesRow = typeof species.$inferSelect;
type Columns = Omit<typeof species.$inferInsert, "id" | "siteId" | "slug" | "searchText">;

/** A site species' slug: its scientific name in kebab case, unique within the site. */
function slugOf(scientificName: string): string {
  return foldForSearch(scientificName).replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "species";
}

function careColumns(care: Partial<SpeciesCareInput>): Partial<Columns> {
  const out: Partial<Columns> = {};
  if (care.soilMoisture) Object.assign(out, { soilMoistureMin: care.soilMoisture.min, soilMoistureMax: care.soilMoisture.max });
  if (care.temperature) Object.assign(out, { temperatureMin: care.temperature.min, temperatureMax: care.temperature.max });
  if (care.humidity) Object.assign(out, { humidityMin: care.humidity.min, humidityMax: care.humidity.max });
  if (care.light) Object.assign(out, { lightLuxMin: care.light.min, lightLuxMax: care.light.max });
  if (care.dli) Object.assign(out, { dliMin: care.dli.min, dliMax: care.dli.max });
  if (care.ec) Object.assign(out, { ecMin: care.ec.min, ecMax: care.ec.max });
  if (care.ph !== undefined) Object.assign(out, { phMin: care.ph?.min ?? null, phMax: care.ph?.max ?? null });
  if (care.wateringIntervalDays !== undefined) out.wateringIntervalDays = care.wateringIntervalDays;
  if (care.fertilizeIntervalDays !== undefined) out.fertilizeIntervalDays = care.fertilizeIntervalDays;
  if (care.repotIntervalMonths !== undefined) out.repotIntervalMonths = care.repotIntervalMonths;
  return out;
}

function fieldColumns(input: Omit<UpdateSpeciesInput, "speciesId">): Partial<Columns> {
  const out: Partial<Columns> = careColumns(input.care ?? {});
  for (const key of ["scientificName", "commonNames", "family", "category", "toxicToPets", "careNotes"] as const) {
    if (input[key] !== undefined) Object.assign(out, { [key]: input[key] });
  }
  return out;
}

function baseColumns(row: SpeciesRow): Columns {
  const { id: _i, siteId: _s, slug: _l, searchText: _t, ...columns } = row;
  return columns;
}

const searchTextOf = (c: Pick<Columns, "scientificName" | "commonNames" | "family">) => foldForSearch([c.scientificName, ...c.commonNames, c.family].join(" "));

async function requireOwnSpecies(db: Db, siteId: string, speciesId: string, path = "speciesId"): Promise<SpeciesRow> {
  const [row] = await db
    .select()
    .from(species)
    .where(and(eq(species.id, speciesId), eq(species.siteId, siteId)));
  if (row) return row;
  // A catalog species is visible but not the site's to change; another site's is not found.
  await requireVisibleSpecies(db, siteId, speciesId, path);
  throw new AppError("FORBIDDEN", "the shared catalog cannot be changed: create the site's own species (basedOn this one) instead", { path });
}

function rangesCheck(c: Columns): void {
  const pairs: [string, number | null, number | null][] = [
    ["soilMoisture", c.soilMoistureMin, c.soilMoistureMax],
    ["temperature", c.temperatureMin, c.temperatureMax],
    ["humidity", c.humidityMin, c.humidityMax],
    ["light", c.lightLuxMin, c.lightLuxMax],
    ["dli", c.dliMin, c.dliMax],
    ["ec", c.ecMin, c.ecMax],
    ["ph", c.phMin ?? null, c.phMax ?? null],
  ];
  for (const [name, min, max] of pairs) {
    if (min !== null && max !== null && min > max) throw new AppError("BAD_REQUEST", `min (${min}) is above max (${max})`, { path: `care.${name}.max` });
  }
}

/** Writes the row, refusing a second species of the same scientific name in the site. */
async function write(db: Db, siteId: string, columns: Columns, existing?: SpeciesRow) {
  rangesCheck(columns);
  const values = { ...columns, siteId, slug: slugOf(columns.scientificName), searchText: searchTextOf(columns) };
  if (existing) {
    const [clash] = await db
      .select({ id: species.id })
      .from(species)
      .where(and(eq(species.siteId, siteId), eq(species.slug, values.slug), ne(species.id, existing.id)));
    if (clash) throw new AppError("CONFLICT", `this site already has a species named ${columns.scientificName}`, { path: "scientificName" });
  }
  const [row] = existing
    ? await db.update(species).set(values).where(eq(species.id, existing.id)).returning()
    : await db.insert(species).values(values).onConflictDoNothing().returning();
  if (!row) throw new AppError("CONFLICT", `this site already has a species named ${columns.scientificName}`, { path: "scientificName" });
  return speciesView(row);
}

export async function createSiteSpecies(db: Db, siteId: string, input: CreateSpeciesInput) {
  const { basedOn, care, ...fields } = input;
  const base = basedOn ? baseColumns(await requireVisibleSpecies(db, siteId, basedOn, "basedOn")) : undefined;
  // Without basedOn the input schema has required every field.
  const columns = { ...base, ...fieldColumns({ ...fields, care }) } as Columns;
  return write(db, siteId, columns);
}

export async function updateSiteSpecies(db: Db, siteId: string, input: UpdateSpeciesInput) {
  const { speciesId, ...fields } = input;
  const current = await requireOwnSpecies(db, siteId, speciesId);
  return write(db, siteId, { ...baseColumns(current), ...fieldColumns(fields) }, current);
}

/**
 * Deletes one of the site's species. Plants using it (living or archived) must be given a fate:
 * `reassignTo` another species the site can use, or `null` to keep them without a species; with
 * neither, nothing is deleted and the error says how many plants use it.
 */
export async function deleteSiteSpecies(db: Db, siteId: string, input: { speciesId: string; reassignTo?: string | null | undefined }) {
  const current = await requireOwnSpecies(db, siteId, input.speciesId);
  const [usage] = await db.select({ n: count() }).from(plants).where(eq(plants.speciesId, current.id));
  const inUse = Number(usage?.n ?? 0);
  if (inUse > 0 && input.reassignTo === undefined) {
    throw new AppError(
      "CONFLICT",
      `${inUse} plant${inUse === 1 ? " uses" : "s use"} this species: give reassignTo another species, or null to leave ${inUse === 1 ? "it" : "them"} without one`,
      { path: "reassignTo" },
    );
  }
  if (input.reassignTo === current.id) throw new AppError("BAD_REQUEST", "must be another species than the one deleted", { path: "reassignTo" });
  const target = input.reassignTo ? await requireVisibleSpecies(db, siteId, input.reassignTo, "reassignTo") : null;
  return db.transaction(async (tx) => {
    const moved = await tx.update(plants).set({ speciesId: target?.id ?? null }).where(eq(plants.speciesId, current.id)).returning({ id: plants.id });
    await tx.delete(species).where(eq(species.id, current.id));
    return { deleted: current.id, plantsReassigned: moved.length, reassignedTo: target?.id ?? null };
  });
}
