import { changePasswordInput, loginInput, registerInput } from "../../../../shared/schemas/accounts";
import { changePassword, clearedSessionCookie, createSession, invalidateSession, invalidateUserSessions, installationState, isHttps, login, registerUser, sessionCookie } from "../../../accounts";
import type { Context } from "../context";
import { quietHoursInput } from "../../../../shared/schemas/notifications";
import { setUserQuietHours, userQuietHours } from "../../../notifications";
import { authedProcedure, publicProcedure, router } from "../core";

/** Web clients get the cookie only; app clients get the token in the body for `Authorization: Bearer`. */
function deliverSession(ctx: Context, client: "web" | "app", session: { token: string; expiresAt: Date }) {
  if (client === "app") return { token: session.token, expiresAt: session.expiresAt };
  ctx.resHeaders.append("set-cookie", sessionCookie(session.token, session.expiresAt, isHttps(ctx.req)));
  return { token: null, expiresAt: session.expiresAt };
}

export const authRouter = router({
  /**
   * Public: whether no account exists yet (the dashboard then shows its first-run screen; the
   * first account also becomes the demo site's owner) and whether there is a demo site.
   */
  installation: publicProcedure.query(({ ctx }) => installationState(ctx.stores.db)),

  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    const { user, siteId } = await registerUser(ctx.stores.db, input);
    const session = await createSession(ctx.stores.db, user.id, ctx.now());
    return { user, personalSiteId: siteId, ...deliverSession(ctx, input.client, session) };
  }),

  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    const result = await login(ctx.stores.db, { email: input.email, password: input.password, ip: ctx.clientIp }, ctx.now(), ctx.passwords);
    return { user: result.user, ...deliverSession(ctx, input.client, result) };
  }),

  logout: authedProcedure.mutation(async ({ ctx }) => {
    await invalidateSession(ctx.stores.db, ctx.session.id);
    if (ctx.viaCookie) ctx.resHeaders.append("set-cookie", clearedSessionCookie(isHttps(ctx.req)));
    return { ok: true as const };
  }),

  /** Ends every session of the caller, on every device, this one included. */
  logoutEverywhere: authedProcedure.mutation(async ({ ctx }) => {
    const ended = await invalidateUserSessions(ctx.stores.db, ctx.user.id);
    if (ctx.viaCookie) ctx.resHeaders.append("set-cookie", clearedSessionCookie(isHttps(ctx.req)));
    return { sessionsEnded: ended };
  }),

  me: authedProcedure.query(({ ctx }) => ({ user: ctx.user, sessionExpiresAt: ctx.session.expiresAt })),

  /** The caller's quiet hours, applied to webhook endpoints that name them as recipient. */
  quietHours: authedProcedure.query(({ ctx }) => userQuietHours(ctx.stores.db, ctx.user.id)),
  setQuietHours: authedProcedure
    .input(quietHoursInput)
    .mutation(({ ctx, input }) => setUserQuietHours(ctx.stores.db, ctx.user.id, input)),

  changePassword: authedProcedure.input(changePasswordInput).mutation(({ ctx, input }) =>
    changePassword(
      ctx.stores.db,
      { userId: ctx.user.id, sessionId: ctx.session.id, currentPassword: input.currentPassword, newPassword: input.newPassword, ip: ctx.clientIp },
      ctx.now(),
      ctx.passwords,
    ),
  ),
});
