import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { StoreUnavailableError } from "../stores";
import type { Context } from "./context";

/**
 * The whole tRPC core: one instance, one error shape, and procedures built by chaining
 * middlewares (public → authed → site role as the accounts work adds them).
 */
const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        // Never leak stack traces to clients; the server log has them with the request id.
        stack: undefined,
        // Invalid input names each field and the reason, e.g. [{ path: "email", message: "Invalid email" }].
        issues:
          cause instanceof ZodError
            ? cause.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }))
            : undefined,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Store outages become 503s that clients can retry, not opaque 500s. */
const mapStoreOutages = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof StoreUnavailableError) {
    throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: result.error.cause.message, cause: result.error.cause });
  }
  return result;
});

export const publicProcedure = t.procedure.use(mapStoreOutages);
