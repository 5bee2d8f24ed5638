import { publicProcedure } from "../core";

/** Liveness plus the stores' readiness, for apps that want to show "server reachable". */
export const healthQuery = publicProcedure.query(async ({ ctx }) => {
  const readiness = await ctx.stores.readiness();
  return { ok: true as const, ready: readiness.ready, stores: readiness.stores, time: ctx.now() };
});
