import { initTRPC, TRPCError } from "@trpc/server";
import { transformer } from "../../../shared/transformer";
import { z, ZodError } from "zod";
import { siteIdInput, uuidSchema, type SiteRole } from "../../../shared/schemas/accounts";
import { bearerOf, originMatchesHost, readCookie, SESSION_COOKIE, sessionOfRequest } from "../../accounts";
import { AppError, badInput, nulIssue, StoreUnavailableError } from "../../platform";
import { roleAllows } from "../../sites";
import { isBodyLimitError } from "../request-body";
import { BATCH_TOO_LARGE, BATCH_TOO_LARGE_MESSAGE } from "./batch-policy";
import type { Context } from "./context";

/**
 * The whole tRPC core: one instance, one error shape, and procedures built by chaining
 * middlewares: publicProcedure → authedProcedure → siteProcedure(role). The site middleware reads
 * `siteId` from the input and checks membership once, so routers never repeat access checks.
 */
const t = initTRPC.context<Context>().create({
  transformer,
  // Live subscriptions (server-sent events): a ping every 10 s keeps idle streams under Bun's
  // idle timeout and proxies' read timeouts; the client reconnects after 25 s without one.
  sse: {
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 25_000 },
  },
  errorFormatter({ shape, error, ctx }) {
    // A failure we did not foresee says nothing of its cause: a database or engine message can
    // carry SQL, parameters and data. The log has the detail under the same request id (app.ts).
    if (shape.data.code === "INTERNAL_SERVER_ERROR") {
      const requestId = ctx?.requestId ?? "unknown";
      return { ...shape, message: `internal error (request id ${requestId})`, data: { ...shape.data, stack: undefined, issues: undefined, requestId } };
    }
    const cause = error.cause;
    const issues =
      cause instanceof ZodError
        ? cause.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }))
        : cause instanceof AppError && cause.options.path
          ? [{ path: cause.options.path, message: cause.message }]
          : undefined;
    // tRPC's own refusal of an oversized batch does not say what the limit is.
    const message = error.code === "BAD_REQUEST" && error.message === BATCH_TOO_LARGE ? BATCH_TOO_LARGE_MESSAGE : shape.message;
    return {
      ...shape,
      message,
      // Never leak stack traces to clients; the server log has them with the request id.
      data: { ...shape.data, stack: undefined, issues },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Domain errors and store outages become tRPC errors here, once, for every procedure. */
const mapErrors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  if (cause instanceof StoreUnavailableError) {
    throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: cause.message, cause });
  }
  if (isBodyLimitError(cause)) throw new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: "request body too large", cause });
  if (cause instanceof AppError) {
    if (cause.options.retryAfterSeconds !== undefined) ctx.resHeaders.set("retry-after", String(cause.options.retryAfterSeconds));
    throw new TRPCError({ code: cause.code, message: cause.message, cause });
  }
  return result;
});


/**
 * CSRF: a state change authenticated by the session cookie must come from our own origin; and
 * any browser request naming a foreign Origin is refused (that also stops login CSRF).
 */
const csrfGuard = t.middleware(({ ctx, type, next }) => {
  // Queries and subscriptions only read: another origin cannot read the answer without CORS.
  if (type === "mutation") {
    const origin = ctx.req.headers.get("origin");
    const cookieAuth = !bearerOf(ctx.req) && readCookie(ctx.req.headers.get("cookie"), SESSION_COOKIE) !== undefined;
    if ((origin !== null || cookieAuth) && !originMatchesHost(ctx.req)) {
      throw new TRPCError({ code: "FORBIDDEN", message: "cross-site request refused: the Origin header must match this server" });
    }
  }
  return next();
});

/**
 * Read your own writes: once a mutation's transaction committed, wait until this server has
 * applied the change events it sent (the site directory's marker), so the caller's next call sees
 * the change here at once, as every other server sees it once its notification arrives.
 */
const settleWrites = t.middleware(async ({ ctx, type, next }) => {
  const result = await next();
  if (type === "mutation" && result.ok) await ctx.directory.settle();
  return result;
});

/** Text with a NUL character is refused for every procedure, naming the field (see nulIssue). */
const refuseNul = t.middleware(async ({ getRawInput, next }) => {
  const issue = nulIssue(await getRawInput());
  if (issue) throw badInput(issue.path, issue.message);
  return next();
});

export const publicProcedure = t.procedure.use(mapErrors).use(csrfGuard).use(refuseNul).use(settleWrites);

/**
 * Resolves the session from `Authorization: Bearer` (apps) or the session cookie (browsers). A
 * subscription may instead carry the token in `connectionParams.token`, for clients whose
 * EventSource cannot set headers and that do not use the cookie.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, type, next }) => {
  const paramToken = type === "subscription" ? ctx.connectionParams?.token : undefined;
  const auth = await sessionOfRequest(ctx.stores, ctx.req, ctx.now(), typeof paramToken === "string" ? paramToken : undefined);
  if (!auth) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first: no valid session" });
  if (auth.renewedCookie) ctx.resHeaders.append("set-cookie", auth.renewedCookie);
  return next({ ctx: { user: auth.user, session: auth.session, viaCookie: auth.viaCookie } });
});

/**
 * Procedures on one site's resources: `siteId` in the input, the caller's role at least `required`.
 * A site the caller is not a member of is "not found", so its existence does not leak.
 */
export function siteProcedure(required: SiteRole) {
  return authedProcedure.input(siteIdInput).use(async ({ ctx, input, next }) => {
    const role = await ctx.directory.role(input.siteId, ctx.user.id);
    if (!role) throw new AppError("NOT_FOUND", "site not found", { path: "siteId" });
    if (!roleAllows(role, required)) {
      throw new AppError("FORBIDDEN", `this needs the ${required} role in the site; you are ${role}`);
    }
    return next({ ctx: { siteId: input.siteId, role } });
  });
}

/**
 * Procedures on shared data that a site may add to (the species catalog and a site's own species):
 * without `siteId` the shared data only; with it, the caller must be a member of that site (any
 * role), which is "not found" otherwise, as for siteProcedure.
 */
export const sharedOrSiteProcedure = authedProcedure.input(z.object({ siteId: uuidSchema.optional() })).use(async ({ ctx, input, next }) => {
  if (input.siteId && !(await ctx.directory.role(input.siteId, ctx.user.id))) throw new AppError("NOT_FOUND", "site not found", { path: "siteId" });
  return next({ ctx: { siteId: input.siteId ?? null } });
});
