import { Elysia } from "elysia";
import { argon2Verifier, bearerOf, type PasswordVerifier } from "../accounts";
import { isBodyLimitError } from "./request-body";
import type { LagStats } from "../pipelines/automation";
import type { DeviceActivity, IngestPipeline } from "../pipelines/ingest";
import { EventHub, type IngestLimits, type Logger, messageOf, metaOf, type Stores, StoreUnavailableError } from "../platform";
import type { SiteDirectory } from "../sites";
import { deviceAuthError, httpError } from "./errors";
import { adminRoutes } from "./routes/admin";
import { deviceCommandRoutes } from "./routes/device-commands";
import { exportRoutes } from "./routes/export";
import { influxRoutes } from "./routes/influx";
import { ingestRoutes } from "./routes/ingest";
import { trpcRoutes } from "./routes/trpc";
import { webRoutes } from "./routes/web";

export interface AppDeps {
  stores: Stores;
  directory: SiteDirectory;
  log: Logger;
  /** In-process events (ingest → automation, live updates); a private hub when absent. */
  events?: EventHub;
  now?: () => Date;
  /** Secret the CLI presents on the loopback admin endpoint; without it the endpoint is off. */
  adminSecret?: string;
  /** The ingest pipeline and its limits; without them /v1/ingest is not mounted. */
  ingest?: {
    pipeline: () => IngestPipeline;
    limits: IngestLimits;
    rawRetentionDays: number;
    degraded: () => string | undefined;
  };
  /**
   * Devices' last-seen times (the writer ingest uses): polling for commands, acknowledging them and
   * /v1/whoami are heartbeats. Without it those endpoints record nothing.
   */
  deviceActivity?: () => DeviceActivity;
  /** The automation engine's lag from commit to evaluation, shown on /healthz. */
  automationStats?: () => LagStats;
  /** Set while shutting down: /readyz turns 503 so load balancers stop sending traffic. */
  isShuttingDown?: () => boolean;
  /**
   * Aborted when shutdown starts: long polls answer and live subscriptions end at once, so
   * draining in-flight requests does not wait for them.
   */
  stopping?: AbortSignal;
  /** Live updates: the shortest gap between two readings messages to one subscriber (default 1,000 ms). */
  liveReadingsIntervalMs?: number;
  /** Checks passwords (argon2id by default). */
  passwords?: PasswordVerifier;
}

/** The Elysia app. Routes only wire: each calls a module and shapes the response. */
export function createApp(deps: AppDeps) {
  const { stores, directory, log } = deps;
  const now = deps.now ?? (() => new Date());
  const events = deps.events ?? new EventHub(log);
  const stopping = deps.stopping ?? new AbortController().signal;
  const heartbeat = (device: { id: string; siteId: string }) => deps.deviceActivity?.().heartbeat(device, now().getTime());

  return new Elysia()
    .onError(({ request, code, error }) => {
      if (code === "NOT_FOUND") return httpError(404, "not found", { path: new URL(request.url).pathname });
      if (code === "PARSE") return httpError(400, "malformed request body", { reason: messageOf(error) });
      if (code === "VALIDATION") return httpError(400, "invalid request", { reason: messageOf(error) });
      // Bun has already answered 413 to a body beyond the listener's limit: the client's mistake, not ours.
      if (isBodyLimitError(error)) return httpError(413, "request body too large");
      if (error instanceof StoreUnavailableError) {
        // Starting up, or a store is down: a client should come back, not report a bug.
        const response = httpError(503, error.message);
        response.headers.set("retry-after", "5");
        return response;
      }
      const requestId = metaOf(request).id;
      log.error({ requestId, err: error }, "unhandled error");
      return httpError(500, "internal error", { requestId });
    })
    .get("/healthz", () => ({
      status: "ok",
      uptimeSeconds: Math.round(process.uptime()),
      ...(deps.automationStats ? { automation: deps.automationStats() } : {}),
    }))
    .get("/readyz", async () => {
      if (deps.isShuttingDown?.()) return Response.json({ status: "shutting down" }, { status: 503 });
      const readiness = await stores.readiness();
      const ingestProblem = deps.ingest?.degraded();
      if (readiness.ready && !ingestProblem) return { status: "ready", stores: readiness.stores };
      const reason = [
        ...Object.entries(readiness.stores)
          .filter(([, s]) => !s.ok)
          .map(([name, s]) => `${name}: ${s.error}`),
        ...(ingestProblem ? [`ingest: last insert failed: ${ingestProblem}`] : []),
      ].join("; ");
      return Response.json({ status: "not ready", reason, stores: readiness.stores }, { status: 503 });
    })
    .use(trpcRoutes({ stores, directory, events, log, now, liveReadingsIntervalMs: deps.liveReadingsIntervalMs ?? 1_000, passwords: deps.passwords ?? argon2Verifier, stopping }))
    .use(deps.ingest ? ingestRoutes({ ...deps.ingest, directory, now: () => now().getTime() }) : new Elysia())
    .use(deps.ingest ? influxRoutes({ ...deps.ingest, directory, now: () => now().getTime() }) : new Elysia())
    // Devices check their token (and learn their id and site) here during setup.
    .get("/v1/whoami", async ({ request }) => {
      const auth = await directory.authenticate(bearerOf(request));
      if (!auth.ok) return deviceAuthError(auth.reason);
      heartbeat(auth.device);
      return { deviceId: auth.device.id, siteId: auth.device.siteId, name: auth.device.name };
    })
    .use(deviceCommandRoutes({ stores, directory, events, now, stopping, heartbeat }))
    .use(exportRoutes({ stores, directory, log, now }))
    .use(adminRoutes({ stores, directory, secret: deps.adminSecret, now }))
    // The dashboard (web/dist) at `/`; last, so every API route above keeps its own answers.
    .use(webRoutes());
}

export type App = ReturnType<typeof createApp>;
