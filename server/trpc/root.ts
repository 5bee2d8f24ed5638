import { authRouter } from "./routers/auth";
import { devicesRouter } from "./routers/devices";
import { healthQuery } from "./routers/health";
import { sitesRouter } from "./routers/sites";
import { router } from "./trpc";

/** One router per domain, combined here; the app client imports only this type. */
export const appRouter = router({
  health: healthQuery,
  auth: authRouter,
  sites: sitesRouter,
  devices: devicesRouter,
});

export type AppRouter = typeof appRouter;
