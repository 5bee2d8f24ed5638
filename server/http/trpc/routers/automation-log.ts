import { listAutomationLogInput } from "../../../../shared/schemas/automation";
import { listLog } from "../../../rules";
import { router, siteProcedure } from "../core";

/** What the automation did and why: per site, filtered by plant, rule, schedule or event; newest first. */
export const automationLogRouter = router({
  list: siteProcedure("viewer")
    .input(listAutomationLogInput)
    .query(({ ctx, input }) => listLog(ctx.stores.db, ctx.siteId, input)),
});
