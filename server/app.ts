import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Elysia } from "elysia";
import { adminCommands, AdminCommandError, type AdminArgs } from "./admin/commands";
import type { LagStats } from "./automation/engine";
import { secretMatches } from "./admin/server-lock";
import type { DeviceAuthenticator } from "./devices/device-auth";
import { EventHub } from "./events/hub";
import { bearerOf, metaOf } from "./http";
import { deviceAuthError, httpError } from "./http-errors";
import type { IngestPipeline } from "./ingest/pipeline";
import type { IngestLimits } from "./config";
import type { Logger } from "./logger";
import { deviceCommandRoutes } from "./routes/device-commands";
import { exportRoutes } from "./routes/export";
import { ingestRoutes } from "./routes/ingest";
import { messageOf, StoreUnavailableError, type Stores } from "./stores";
import { EmbeddedJson, parseEmbeddedJson } from "./trpc/embedded-json";
import { appRouter } from "./trpc/root";
import { webRoutes } from "./web/serve";

export interface AppDeps {
  stores: Stores;
  deviceAuth: DeviceAuthenticator;
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
    /** A device's sensors changed (calibration, metric): drop them from the ingest cache. */
    invalidateSensors: (deviceId: string) => void;
  };
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
}

/** The Elysia app. Routes only wire: each calls a module and shapes the response. */
export function createApp(deps: AppDeps) {
  const { stores, log, deviceAuth } = deps;
  const now = deps.now ?? (() => new Date());
  const events = deps.events ?? new EventHub(log);
  const stopping = deps.stopping ?? new AbortController().signal;

  return new Elysia()
    .onError(({ request, code, error }) => {
      if (code === "NOT_FOUND") return httpError(404, "not found", { path: new URL(request.url).pathname });
      if (code === "PARSE") return httpError(400, "malformed request body", { reason: messageOf(error) });
      if (code === "VALIDATION") return httpError(400, "invalid request", { reason: messageOf(error) });
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
    .all(
      "/trpc/*",
      async ({ request }) => {
        const embedded = new EmbeddedJson();
        const response = await fetchRequestHandler({
          endpoint: "/trpc",
          req: request,
          router: appRouter,
          createContext: ({ req, resHeaders, info }) => {
            return {
              requestId: metaOf(request).id,
              stores,
              deviceAuth,
              events,
              now,
              liveReadingsIntervalMs: deps.liveReadingsIntervalMs ?? 1_000,
              connectionParams: info.connectionParams,
              req,
              resHeaders,
              clientIp: metaOf(request).remoteAddress || undefined,
              // Streamed answers (JSON lines, server-sent events) are written as they come: no splicing.
              embedJson: info.accept === "application/jsonl" || info.type === "subscription" ? parseEmbeddedJson : embedded.embed,
              sensorsChanged: <T extends { deviceId: string }>(sensor: T) => {
                deps.ingest?.invalidateSensors(sensor.deviceId);
                return sensor;
              },
            };
          },
          onError: ({ error, path }) => {
            if (error.code === "INTERNAL_SERVER_ERROR") {
              log.error({ requestId: metaOf(request).id, procedure: path, err: error.cause ?? error }, "procedure failed");
            }
          },
        });
        return cutStreamsOnStop(await embedded.splice(response), stopping);
      },
      // tRPC reads the body itself.
      { parse: "none" },
    )
    .use(
      deps.ingest
        ? ingestRoutes({ ...deps.ingest, deviceAuth, now: () => now().getTime() })
        : new Elysia(),
    )
    // Devices check their token (and learn their id and site) here during setup.
    .get("/v1/whoami", async ({ request }) => {
      const auth = await deviceAuth.authenticate(bearerOf(request));
      if (!auth.ok) return deviceAuthError(auth.reason);
      return { deviceId: auth.device.id, siteId: auth.device.siteId, name: auth.device.name };
    })
    .use(deviceCommandRoutes({ stores, deviceAuth, events, now, stopping }))
    .use(exportRoutes({ stores, log, now }))
    .post(
      "/admin/:command",
      async ({ request, params }) => {
        const secret = deps.adminSecret;
        const ip = metaOf(request).remoteAddress;
        if (!secret || !isLoopback(ip)) return httpError(404, "not found", { path: new URL(request.url).pathname });
        const presented = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
        if (!secretMatches(presented, secret)) return httpError(401, "invalid admin secret");
        const command = adminCommands[params.command];
        if (!command) return httpError(404, "unknown command", { command: params.command });
        if (!command.whileServing) {
          return httpError(409, `${params.command} cannot run while the server is running`, {
            hint: "stop the server, then run the command again",
          });
        }
        let args: AdminArgs = {};
        try {
          const text = await request.text();
          args = text ? (JSON.parse(text) as AdminArgs) : {};
        } catch (error) {
          return httpError(400, "malformed request body", { reason: messageOf(error) });
        }
        try {
          return await command.run({ postgres: stores.postgres, clickhouse: stores.clickhouse, deviceAuth, now: now() }, args);
        } catch (error) {
          if (error instanceof AdminCommandError) return httpError(400, error.message);
          throw error;
        }
      },
      { parse: "none" },
    )
    // The dashboard (web/dist) at `/`; last, so every API route above keeps its own answers.
    .use(webRoutes());
}

/**
 * Live subscriptions are endless event streams: when the server stops, cut them at the transport
 * (the body ends without tRPC's "return" event), so draining requests does not wait for them and
 * clients reconnect, as they do after any dropped connection, instead of ending the subscription.
 */
function cutStreamsOnStop(response: Response, stopping: AbortSignal): Response {
  // The content type first: most answers are not streams, and their body is best left untouched.
  if (!response.headers.get("content-type")?.startsWith("text/event-stream") || !response.body) return response;
  const reader = response.body.getReader();
  let cut = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      cut = () => {
        // Ends the body as a dropped connection would: EventSource clients reconnect.
        try {
          controller.close();
        } catch {
          // Already closed.
        }
        void reader.cancel("server shutting down").catch(() => {});
      };
      if (stopping.aborted) cut();
      else stopping.addEventListener("abort", cut, { once: true });
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          stopping.removeEventListener("abort", cut);
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      stopping.removeEventListener("abort", cut);
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

export type App = ReturnType<typeof createApp>;
