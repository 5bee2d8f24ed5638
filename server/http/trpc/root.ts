import { actuatorsRouter } from "./routers/actuators";
import { alertsRouter } from "./routers/alerts";
import { analyticsRouter } from "./routers/analytics";
import { authRouter } from "./routers/auth";
import { automationLogRouter } from "./routers/automation-log";
import { commandsRouter } from "./routers/commands";
import { devicesRouter } from "./routers/devices";
import { healthQuery } from "./routers/health";
import { liveRouter } from "./routers/live";
import { mqttRouter } from "./routers/mqtt";
import { notificationsRouter } from "./routers/notifications";
import { plantsRouter } from "./routers/plants";
import { rulesRouter } from "./routers/rules";
import { schedulesRouter } from "./routers/schedules";
import { sensorsRouter } from "./routers/sensors";
import { sitesRouter } from "./routers/sites";
import { speciesRouter } from "./routers/species";
import { tasksRouter } from "./routers/tasks";
import { wateringSafetyRouter } from "./routers/watering-safety";
import { wateringsRouter } from "./routers/waterings";
import { router } from "./core";

/** One router per domain, combined here; the app client imports only this type. */
export const appRouter = router({
  health: healthQuery,
  auth: authRouter,
  sites: sitesRouter,
  devices: devicesRouter,
  species: speciesRouter,
  plants: plantsRouter,
  sensors: sensorsRouter,
  actuators: actuatorsRouter,
  tasks: tasksRouter,
  waterings: wateringsRouter,
  alerts: alertsRouter,
  commands: commandsRouter,
  live: liveRouter,
  notifications: notificationsRouter,
  rules: rulesRouter,
  schedules: schedulesRouter,
  automationLog: automationLogRouter,
  wateringSafety: wateringSafetyRouter,
  analytics: analyticsRouter,
  mqtt: mqttRouter,
});

export type AppRouter = typeof appRouter;
