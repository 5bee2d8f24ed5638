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
