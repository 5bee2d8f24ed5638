import { healthQuery } from "./routers/health";
import { router } from "./trpc";

/** One router per domain, combined here; the app client imports only this type. */
export const appRouter = router({
  health: healthQuery,
});

export type AppRouter = typeof appRouter;
