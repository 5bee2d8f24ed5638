import { createRuleInput, listRulesInput, ruleIdInput, setEnabledRuleInput, updateRuleInput } from "../../../shared/schemas/automation";
import { createRule, deleteRule, getRule, listRules, updateRule } from "../../automation/rules";
import { router, siteProcedure } from "../trpc";

/**
 * Automation rules. Every change tells this server's engine at once (`automation.changed`) so the
 * readings of the next batch meet the new rule; other servers pick it up within their cache TTL.
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
    .mutation(async ({ ctx, input }) => {
      const rule = await createRule(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() });
      ctx.events.emit("automation.changed", { siteId: ctx.siteId });
      return rule;
    }),
  update: siteProcedure("editor")
    .input(updateRuleInput)
    .mutation(async ({ ctx, input }) => {
      const rule = await updateRule(ctx.stores.db, ctx.siteId, input, ctx.now());
      ctx.events.emit("automation.changed", { siteId: ctx.siteId });
      return rule;
    }),
  setEnabled: siteProcedure("editor")
    .input(setEnabledRuleInput)
    .mutation(async ({ ctx, input }) => {
      const rule = await updateRule(ctx.stores.db, ctx.siteId, { ruleId: input.ruleId, enabled: input.enabled }, ctx.now());
      ctx.events.emit("automation.changed", { siteId: ctx.siteId });
      return rule;
    }),
  delete: siteProcedure("editor")
    .input(ruleIdInput)
    .mutation(async ({ ctx, input }) => {
      await deleteRule(ctx.stores.db, ctx.siteId, input.ruleId, ctx.now());
      ctx.events.emit("automation.changed", { siteId: ctx.siteId });
      return { ok: true as const };
    }),
});
