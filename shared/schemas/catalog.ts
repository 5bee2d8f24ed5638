import { z } from "zod";
import { pageInput } from "./common";
import { uuidSchema } from "./accounts";

export const SPECIES_CATEGORIES = ["houseplant", "succulent", "herb", "vegetable", "fruit", "flower"] as const;

/** Search by scientific or common name (or family), case- and accent-insensitive. Empty lists all. */
export const speciesSearchInput = pageInput.extend({
  query: z.string().trim().max(100, "must be at most 100 characters").default(""),
  category: z.enum(SPECIES_CATEGORIES).optional(),
});

export const speciesIdInput = z.object({ speciesId: uuidSchema });

/** A care range: both bounds, min not above max, within what the quantity can be. */
const careRange = (lowest: number, highest: number) =>
  z
    .object({
      min: z.number().min(lowest, `must be at least ${lowest}`).max(highest, `must be at most ${highest}`),
      max: z.number().min(lowest, `must be at least ${lowest}`).max(highest, `must be at most ${highest}`),
    })
    .strict()
    .superRefine((r, ctx) => {
      if (r.min > r.max) ctx.addIssue({ code: "custom", path: ["max"], message: "must not be below min" });
    });

const days = (max: number) => z.number().int("must be a whole number").min(1, "must be at least 1").max(max, `must be at most ${max}`);

/** A species' care needs, grouped as `species.get` shows them. */
export const speciesCareInput = z
  .object({
    soilMoisture: careRange(0, 100),
    temperature: careRange(-50, 60),
    humidity: careRange(0, 100),
    light: careRange(0, 200_000),
    dli: careRange(0, 100),
    ec: careRange(0, 20),
    /** Optional: null when not known. */
    ph: careRange(0, 14).nullable(),
    wateringIntervalDays: days(365),
    fertilizeIntervalDays: days(365).nullable(),
    repotIntervalMonths: days(120).nullable(),
  })
  .strict();
export type SpeciesCareInput = z.infer<typeof speciesCareInput>;

/** The fields every species has, catalog or a site's own. */
const speciesFields = {
  scientificName: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  commonNames: z.array(z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters")).max(20, "must name at most 20"),
  family: z.string().trim().max(100, "must be at most 100 characters"),
  category: z.enum(SPECIES_CATEGORIES),
  care: speciesCareInput,
  toxicToPets: z.boolean(),
  careNotes: z.string().trim().max(5000, "must be at most 5000 characters"),
};

/**
 * A site's own species: every field of the catalog, or `basedOn` a species it can see (the catalog
 * or its own) and only what differs; `care` is then merged range by range.
 */
export const createSpeciesInput = z
  .object({
    basedOn: uuidSchema.optional(),
    ...speciesFields,
    scientificName: speciesFields.scientificName.optional(),
    commonNames: speciesFields.commonNames.optional(),
    family: speciesFields.family.optional(),
    category: speciesFields.category.optional(),
    care: speciesCareInput.partial().optional(),
    toxicToPets: speciesFields.toxicToPets.optional(),
    careNotes: speciesFields.careNotes.optional(),
  })
  .superRefine((input, ctx) => {
    if (input.basedOn) return;
    for (const field of ["scientificName", "commonNames", "family", "category", "toxicToPets", "careNotes"] as const) {
      if (input[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: "is required (or give basedOn)" });
    }
    for (const range of Object.keys(speciesCareInput.shape) as (keyof SpeciesCareInput)[]) {
      if (input.care?.[range] === undefined) ctx.addIssue({ code: "custom", path: ["care", range], message: "is required (or give basedOn)" });
    }
  });
export type CreateSpeciesInput = z.infer<typeof createSpeciesInput>;

export const updateSpeciesInput = z.object({
  speciesId: uuidSchema,
  scientificName: speciesFields.scientificName.optional(),
  commonNames: speciesFields.commonNames.optional(),
  family: speciesFields.family.optional(),
  category: speciesFields.category.optional(),
  /** Ranges given replace the species' whole range; others stay. */
  care: speciesCareInput.partial().optional(),
  toxicToPets: speciesFields.toxicToPets.optional(),
  careNotes: speciesFields.careNotes.optional(),
});
export type UpdateSpeciesInput = z.infer<typeof updateSpeciesInput>;

/**
 * Deleting a species some plants use must say what happens to them: `reassignTo` another species
 * (the catalog's or the site's own), or `null` to leave them without one (their own overrides stay;
 * the species' ranges no longer apply).
 */
export const deleteSpeciesInput = z.object({
  speciesId: uuidSchema,
  reassignTo: uuidSchema.nullable().optional(),
});
