import { createSpeciesInput, deleteSpeciesInput, speciesIdInput, speciesSearchInput, updateSpeciesInput } from "../../../../shared/schemas/catalog";
import { createSiteSpecies, deleteSiteSpecies, getSpecies, searchSpecies, updateSiteSpecies } from "../../../plants";
import { router, sharedOrSiteProcedure, siteProcedure } from "../core";

/**
 * Species: the shared catalog, which any signed-in user may read and nobody writes, and a site's
 * own species, which its members see (give `siteId` to search or get them) and its editors write.
 */
export const speciesRouter = router({
  search: sharedOrSiteProcedure.input(speciesSearchInput).query(({ ctx, input }) => searchSpecies(ctx.stores.db, { ...input, siteId: ctx.siteId })),
  get: sharedOrSiteProcedure.input(speciesIdInput).query(({ ctx, input }) => getSpecies(ctx.stores.db, input.speciesId, ctx.siteId)),
  create: siteProcedure("editor")
    .input(createSpeciesInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _, ...fields } = input;
      return createSiteSpecies(ctx.stores.db, ctx.siteId, fields);
    }),
  update: siteProcedure("editor")
    .input(updateSpeciesInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _, ...fields } = input;
      return updateSiteSpecies(ctx.stores.db, ctx.siteId, fields);
    }),
  delete: siteProcedure("editor")
    .input(deleteSpeciesInput)
    .mutation(({ ctx, input }) => deleteSiteSpecies(ctx.stores.db, ctx.siteId, input)),
});
