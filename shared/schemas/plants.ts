import { z } from "zod";
import { dateInput } from "./dates";
import { uuidSchema } from "./accounts";
import { nameSchema, optionalText, pageInput } from "./common";

export const POT_MATERIALS = ["plastic", "terracotta", "ceramic", "glazed", "fabric", "wood", "metal", "concrete", "other"] as const;

/**
 * The metrics a plant has care thresholds for. The species gives defaults where the catalog has
 * them (pH where known; water level, a reservoir's, never); the plant may override every bound.
 */
export const THRESHOLD_METRICS = ["soil_moisture", "temperature", "humidity", "light", "ec", "ph", "water_level"] as const;
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];

/** One metric's override: a number sets the bound, `null` goes back to the species' value. */
const rangeOverride = z
  .object({ min: z.number().nullable().optional(), max: z.number().nullable().optional() })
  .strict()
  .superRefine((range, ctx) => {
    if (typeof range.min === "number" && typeof range.max === "number" && range.min > range.max) {
      ctx.addIssue({ code: "custom", path: ["max"], message: "must not be below min" });
    }
  });

export const thresholdOverridesInput = z
  .object(Object.fromEntries(THRESHOLD_METRICS.map((m) => [m, rangeOverride.optional()])) as Record<ThresholdMetric, z.ZodOptional<typeof rangeOverride>>)
  .strict();

const plantFields = {
  name: nameSchema,
  speciesId: uuidSchema.nullable().optional(),
  location: optionalText(200),
  potSizeCm: z.number().int("must be a whole number").min(1, "must be at least 1").max(1000, "must be at most 1000").nullable().optional(),
  potMaterial: z.enum(POT_MATERIALS).nullable().optional(),
  indoor: z.boolean().optional(),
  photoUrl: z.url("must be an http(s) URL").max(2000, "must be at most 2000 characters").refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL").nullable().optional(),
  notes: optionalText(5000),
  /** Days between waterings; absent or null uses the species' interval. */
  wateringIntervalDays: z.number().int("must be a whole number").min(1, "must be at least 1").max(365, "must be at most 365").nullable().optional(),
  /** When the plant was last repotted, if known: the care plan's repotting reminder counts from it. */
  repottedAt: dateInput.nullable().optional(),
  thresholds: thresholdOverridesInput.optional(),
};

export const createPlantInput = z.object(plantFields);
export const updatePlantInput = z.object({ plantId: uuidSchema, ...plantFields, name: nameSchema.optional() });
export const plantIdInput = z.object({ plantId: uuidSchema });
export const listPlantsInput = pageInput.extend({
  /** false: living plants (default); true: archived ones only. */
  archived: z.boolean().default(false),
});
