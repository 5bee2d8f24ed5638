import {
  changeRoleInput,
  createSiteInput,
  inviteMemberInput,
  memberInput,
  updateSiteInput,
} from "../../../../shared/schemas/accounts";
import {
  changeMemberRole,
  createSite,
  deleteSite,
  getSite,
  inviteMember,
  listMembers,
  listSitesOf,
  removeMember,
  updateSite,
} from "../../../sites";
import { authedProcedure, router, siteProcedure } from "../core";

export const sitesRouter = router({
  /** The caller's sites with their role in each. */
  list: authedProcedure.query(({ ctx }) => listSitesOf(ctx.stores.db, ctx.user.id)),
  create: authedProcedure.input(createSiteInput).mutation(({ ctx, input }) => createSite(ctx.stores.db, ctx.user.id, input)),
  get: siteProcedure("viewer").query(async ({ ctx }) => ({ ...(await getSite(ctx.stores.db, ctx.siteId)), role: ctx.role })),
  update: siteProcedure("owner")
    .input(updateSiteInput)
    .mutation(({ ctx, input }) => updateSite(ctx.stores.db, ctx.siteId, { name: input.name, timezone: input.timezone })),
  delete: siteProcedure("owner").mutation(async ({ ctx }) => {
    await deleteSite(ctx.stores.db, ctx.siteId);
    return { ok: true as const };
  }),

  members: siteProcedure("viewer").query(({ ctx }) => listMembers(ctx.stores.db, ctx.siteId)),
  invite: siteProcedure("owner")
    .input(inviteMemberInput)
    .mutation(({ ctx, input }) => inviteMember(ctx.stores.db, ctx.siteId, { email: input.email, role: input.role })),
  changeRole: siteProcedure("owner")
    .input(changeRoleInput)
    .mutation(({ ctx, input }) => changeMemberRole(ctx.stores.db, ctx.siteId, { userId: input.userId, role: input.role })),
  removeMember: siteProcedure("owner")
    .input(memberInput)
    .mutation(async ({ ctx, input }) => {
      await removeMember(ctx.stores.db, ctx.siteId, input.userId);
      return { ok: true as const };
    }),
  /** Any member may leave; the last owner may not. */
  leave: siteProcedure("viewer").mutation(async ({ ctx }) => {
    await removeMember(ctx.stores.db, ctx.siteId, ctx.user.id);
    return { ok: true as const };
  }),
});
