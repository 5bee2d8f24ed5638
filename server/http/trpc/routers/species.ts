import { speciesIdInput, speciesSearchInput } from "../../../../shared/schemas/catalog";
import { getSpecies, searchSpecies } from "../../../plants";
import { authedProcedure, router } from "../core";

/** The species catalog is shared reference data: any signed-in user may read it, nobody writes it. */
export const speciesRouter = router({
  search: authedProcedure.input(speciesSearchInput).query(({ ctx, input }) => searchSpecies(ctx.stores.db, input)),
  get: authedProcedure.input(speciesIdInput).query(({ ctx, input }) => getSpecies(ctx.stores.db, input.speciesId)),
});
