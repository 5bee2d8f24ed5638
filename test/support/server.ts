import { createAppClient, type AppClient } from "../../client";
import { openDatabase } from "../../db/client";
import { createApp } from "../../server/app";
import type { PasswordVerifier } from "../../server/auth/passwords";
import type { NotifyRequest } from "../../server/automation/actions";
import { AutomationEngine } from "../../server/automation/engine";
import type { IngestLimits } from "../../server/config";
import { DeviceAuthenticator } from "../../server/devices/device-auth";
import { EventHub } from "../../server/events/hub";
import { serveHttp } from "../../server/http";
import type { Logger } from "../../server/logger";
import { CorsPolicy } from "../../server/security/cors";
import { TrustedProxies } from "../../server/security/proxies";
import { createIngest, type Ingest } from "../../server/ingest";
import { createLogger } from "../../server/logger";
import { enqueueNotification } from "../../server/notifications";
import type { DispatcherConfig, NotificationDispatcher } from "../../server/notifications/dispatcher";
import { startServices, type Services } from "../../server/services";
import { Stores } from "../../server/stores";
import { openTestClickhouse, openTestDatabase, type PostgresEngine } from "./stores";

export interface TestServer {
  url: string;
  stores: Stores;
  deviceAuth: DeviceAuthenticator;
  events: EventHub;
  ingest: Ingest;
  /** The webhook dispatcher: not running, tests call `tick(now)`. */
  dispatcher: NotificationDispatcher;
  /** The automation engine, listening to ingest; no timer: tests call `tick(now)`. */
  automation: AutomationEngine;
  /** What the engine's notify action sent (also queued in the real outbox). */
  notifications: NotifyRequest[];
  /** A second engine on the same stores, as another server would run. */
  extraEngine(): AutomationEngine;
  client: (token?: string) => AppClient;
  /** Forget everything the ingest pipeline holds in memory, as a server restart would. */
  restartIngest(): Promise<void>;
  /**
   * Stops this server as a shutdown would (long polls answer, streams end, HTTP stops, the change
   * relay unlistens) and starts a new one, with nothing in memory carried over, on the same stores
   * and port.
   */
  restart(): Promise<void>;
  /**
   * A second server on the same databases, as behind a load balancer: its own HTTP port, event hub
   * and change relay, and (on PostgreSQL) its own connections.
   */
  peer(): Promise<PeerServer>;
  close(): Promise<void>;
}

export interface PeerServer {
  url: string;
  events: EventHub;
  dispatcher: NotificationDispatcher;
  client: (token?: string) => AppClient;
  close(): Promise<void>;
}

export const TEST_INGEST_LIMITS: IngestLimits = {
  maxReadings: 10_000,
  maxBodyBytes: 4 * 1024 * 1024,
  maxClockSkewMs: 300_000,
  flushRows: 50_000,
  flushMs: 5,
  maxQueueRows: 1_000_000,
  sensorLimit: 64,
};

export const TEST_NOTIFICATIONS: DispatcherConfig = {
  intervalMs: 1_000,
  timeoutMs: 2_000,
  maxAttempts: 4,
  backoffBaseMs: 10_000,
  backoffMaxMs: 60_000,
};

export interface TestServerOptions {
  now?: () => Date;
  ingest?: Partial<IngestLimits>;
  notifications?: Partial<DispatcherConfig>;
  random?: () => number;
  liveReadingsIntervalMs?: number;
  retention?: { rawDays: number; rollupDays: number };
  /** TRUSTED_PROXIES entries (none by default: X-Forwarded-* headers are ignored). */
  trustedProxies?: string[];
  /** CORS_ORIGINS (none by default). */
  corsOrigins?: string[];
  /** The server's logger (silent by default, or debug with TEST_LOG_LEVEL=debug). */
  log?: Logger;
  /** Checks passwords: argon2id by default; a test may wrap it to count the checks. */
  passwords?: PasswordVerifier;
}

/**
 * The real Elysia app on a free loopback port, over fresh real stores: what a test talks to
 * through HTTP and the typed client.
 */
export async function startTestServer(engine: PostgresEngine, options: TestServerOptions = {}): Promise<TestServer> {
  const pg = await openTestDatabase(engine);
  const ch = openTestClickhouse();
  const log = options.log ?? createLogger(process.env.TEST_LOG_LEVEL === "debug" ? "debug" : "silent");
  const stores = new Stores(
    {
      openPostgres: async () => pg.database,
      openClickhouse: () => ch.clickhouse,
      demoData: false,
      retention: options.retention ?? { rawDays: 90, rollupDays: 730 },
    },
    log,
  );
  await stores.start();
  const limits = { ...TEST_INGEST_LIMITS, ...options.ingest };
  const now = options.now ?? (() => new Date());
  const notifications: NotifyRequest[] = [];
  const engineOn = (hub: EventHub) =>
    new AutomationEngine({
      db: () => stores.db,
      clickhouse: () => stores.clickhouse,
      events: hub,
      log,
      now,
      notify: async (request) => {
        notifications.push(request);
        await enqueueNotification(stores.db, request, now());
      },
      tickIntervalMs: 0,
    });

  /** One server's worth of in-memory state over the shared stores. */
  const boot = async (port: number, stores: Stores) => {
    const events = new EventHub(log);
    const deviceAuth = new DeviceAuthenticator(() => stores.db);
    const ingest = createIngest(stores, limits, log, events);
    const stopping = new AbortController();
    const services = startServices({
      stores,
      events,
      log,
      now,
      notifications: { ...TEST_NOTIFICATIONS, ...options.notifications },
      runDispatcher: false,
      random: options.random,
    });
    await services.ready;
    const automation = engineOn(events);
    automation.start();
    const self = { events, deviceAuth, ingest, stopping, services, automation };
    const app = createApp({
      stores,
      log,
      deviceAuth,
      events,
      now: options.now,
      stopping: stopping.signal,
      automationStats: () => self.automation.stats(),
      liveReadingsIntervalMs: options.liveReadingsIntervalMs ?? 50,
      passwords: options.passwords,
      ingest: {
        pipeline: () => self.ingest.pipeline,
        limits,
        rawRetentionDays: options.retention?.rawDays ?? 90,
        degraded: () => self.ingest.groupCommit.degraded,
        invalidateSensors: (deviceId) => self.ingest.sensors.invalidateDevice(deviceId),
      },
    });
    const http = serveHttp({
      port,
      hostname: "127.0.0.1",
      log,
      handle: app.handle,
      maxRequestBodySize: limits.maxBodyBytes,
      trustedProxies: new TrustedProxies(options.trustedProxies ?? []),
      cors: new CorsPolicy(options.corsOrigins ?? []),
    });
    return Object.assign(self, { http });
  };
  const stop = async (instance: Awaited<ReturnType<typeof boot>>) => {
    // As the real shutdown: waiting requests answer, in-flight ones finish, then the rest is cut.
    instance.stopping.abort();
    const drained = instance.http.stop(false).then(() => true);
    if (!(await Promise.race([drained, Bun.sleep(2_000).then(() => false)]))) await instance.http.stop(true);
    await instance.ingest.stop();
    await instance.automation.stop();
    await instance.services.stop();
  };

  let current = await boot(0, stores);
  const port = current.http.port!;
  const server: TestServer = {
    url: `http://127.0.0.1:${port}`,
    stores,
    deviceAuth: current.deviceAuth,
    events: current.events,
    ingest: current.ingest,
    dispatcher: current.services.dispatcher,
    automation: current.automation,
    notifications,
    extraEngine: () => engineOn(new EventHub(log)),
    client: (token) => createAppClient({ url: server.url, token }),
    restartIngest: async () => {
      await current.ingest.stop();
      current.ingest = createIngest(stores, limits, log, current.events);
      server.ingest = current.ingest;
    },
    restart: async () => {
      await stop(current);
      current = await boot(port, stores);
      server.deviceAuth = current.deviceAuth;
      server.events = current.events;
      server.ingest = current.ingest;
      server.dispatcher = current.services.dispatcher;
      server.automation = current.automation;
    },
    peer: async () => {
      const database = engine === "postgres" ? await openDatabase({ url: pg.url! }) : pg.database;
      const peerStores = new Stores({ openPostgres: async () => database, openClickhouse: () => ch.clickhouse, demoData: false }, log);
      await peerStores.start();
      const instance = await boot(0, peerStores);
      const url = `http://127.0.0.1:${instance.http.port}`;
      return {
        url,
        events: instance.events,
        dispatcher: instance.services.dispatcher,
        client: (token) => createAppClient({ url, token }),
        close: async () => {
          await stop(instance);
          if (database !== pg.database) await database.close();
        },
      };
    },
    close: async () => {
      await stop(current);
      await pg.cleanup();
      await ch.cleanup();
    },
  };
  return server;
}
