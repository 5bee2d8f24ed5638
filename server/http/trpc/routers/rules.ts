import { createRuleInput, listRulesInput, ruleIdInput, setBuiltInRulesInput, setEnabledRuleInput, updateRuleInput } from "../../../../shared/schemas/automation";
import { createRule, deleteRule, getRule, listRules, setBuiltInWatching, updateRule } from "../../../rules";
import { router, siteProcedure } from "../core";

/**
 * Automation rules. Every server's engine reads them from the site directory, which hears of each
 * change when it commits (a change event), so the readings of the next batch meet the new rule.
 */
export const rulesRouter = router({
  list: siteProcedure("viewer")
    .input(listRulesInput)
    .query(({ ctx, input }) => listRules(ctx.stores.db, ctx.siteId, input)),
  /** One rule with where it stands for each subject (clear, pending since, firing). */
  get: siteProcedure("viewer")
    .input(ruleIdInput)
    .query(({ ctx, input }) => getRule(ctx.stores.db, ctx.siteId, input.ruleId)),
  create: siteProcedure("editor")
    .input(createRuleInput)
    .mutation(({ ctx, input }) => createRule(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  update: siteProcedure("editor")
    .input(updateRuleInput)
    .mutation(({ ctx, input }) => updateRule(ctx.stores.db, ctx.siteId, input, ctx.now())),
  setEnabled: siteProcedure("editor")
    .input(setEnabledRuleInput)
    .mutation(({ ctx, input }) => updateRule(ctx.stores.db, ctx.siteId, { ruleId: input.ruleId, enabled: input.enabled }, ctx.now())),
  /** Built-in watching of the site on or off (`sites.get` shows `builtInRules`); off deletes the built-in rules, on creates them again. */
  setBuiltIn: siteProcedure("editor")
    .input(setBuiltInRulesInput)
    .mutation(({ ctx, input }) => setBuiltInWatching(ctx.stores.db, ctx.siteId, input.enabled, ctx.now())),
  delete: siteProcedure("editor")
    .input(ruleIdInput)
    .mutation(async ({ ctx, input }) => {
      await deleteRule(ctx.stores.db, ctx.siteId, input.ruleId, ctx.now());
      return { ok: true as const };
    }),
});
