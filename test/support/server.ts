import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppClient, type AppClient } from "../../client";
import { forgetReadings } from "../../clickhouse/mirror";
import { openDatabase } from "../../db/client";
import { serveHttp } from "../../server/http";
import { enqueueNotification } from "../../server/notifications";
import { AutomationEngine, type NotifyRequest } from "../../server/pipelines/automation";
import type { Ingest } from "../../server/pipelines/ingest";
import type { MqttService } from "../../server/pipelines/mqtt";
import type { NotificationDispatcher } from "../../server/pipelines/notifications";
import type { PasswordVerifier } from "../../server/accounts";
import { CorsPolicy, createLogger, EventHub, Stores, TrustedProxies, type DispatcherConfig, type IngestLimits, type Logger, type MqttConfig } from "../../server/platform";
import type { SiteDirectory } from "../../server/sites";
import { assemble } from "../../server/start";
import { openTestClickhouse, openTestDatabase, type PostgresEngine } from "./stores";

export interface TestServer {
  url: string;
  stores: Stores;
  /** This server's site directory (the one cache of site facts). */
  directory: SiteDirectory;
  events: EventHub;
  ingest: Ingest;
  /** The webhook dispatcher: not running, tests call `tick(now)`. */
  dispatcher: NotificationDispatcher;
  /** The automation engine, listening to ingest; no timer: tests call `tick(now)`. */
  automation: AutomationEngine;
  /** What the engine's notify action sent (also queued in the real outbox). */
  notifications: NotifyRequest[];
  /** MQTT (bridge and/or embedded broker) when the options asked for it; replaced by `restart`. */
  mqtt: MqttService | undefined;
  /** A second engine on the same stores, as another server would run. */
  extraEngine(): AutomationEngine;
  /**
   * Resolves once everything ingest acknowledged so far is in ClickHouse (queries see it a moment
   * after the acknowledgement) and has been judged by the automation.
   */
  settled(): Promise<void>;
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
  directory: SiteDirectory;
  /** Its own engine, judging what it ingests. */
  automation: AutomationEngine;
  /** Its own ingest pipeline and write-ahead log. */
  ingest: Ingest;
  /** As TestServer.settled, for what this server ingested. */
  settled(): Promise<void>;
  events: EventHub;
  dispatcher: NotificationDispatcher;
  client: (token?: string) => AppClient;
  close(): Promise<void>;
}

export const TEST_INGEST_LIMITS: Omit<IngestLimits, "walDir"> = {
  maxReadings: 10_000,
  maxBodyBytes: 4 * 1024 * 1024,
  maxClockSkewMs: 300_000,
  flushRows: 50_000,
  flushMs: 5,
  maxQueueRows: 1_000_000,
  dedupBatches: 100_000,
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
  ingest?: Partial<Omit<IngestLimits, "walDir">>;
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
  /** Runs MQTT as the server does, with this configuration (peers run none: one bridge per broker session). */
  mqtt?: MqttConfig;
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
  // Each server has its own write-ahead log, kept across its restarts as a DATA_DIR would be.
  const walDirs: string[] = [];
  const newWalDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "verdant-test-wal-"));
    walDirs.push(dir);
    return dir;
  };
  const now = options.now ?? (() => new Date());
  const notifications: NotifyRequest[] = [];
  const notify = async (request: NotifyRequest) => {
    notifications.push(request);
    await enqueueNotification(stores.db, request, now());
  };

  /** One server's worth of in-memory state over the shared stores, assembled as `npm start` does. */
  const boot = async (port: number, stores: Stores, walDir: string, withMqtt = true) => {
    const parts = assemble(stores, {
      log,
      now,
      ingest: { ...limits, walDir },
      rawRetentionDays: options.retention?.rawDays ?? 90,
      notifications: { ...TEST_NOTIFICATIONS, ...options.notifications },
      runDispatcher: false,
      automationTickMs: 0,
      notify,
      liveReadingsIntervalMs: options.liveReadingsIntervalMs ?? 50,
      random: options.random,
      passwords: options.passwords,
      mqtt: withMqtt ? options.mqtt : undefined,
    });
    await parts.ready;
    const http = serveHttp({
      port,
      hostname: "127.0.0.1",
      log,
      handle: parts.app.handle,
      maxRequestBodySize: limits.maxBodyBytes,
      trustedProxies: new TrustedProxies(options.trustedProxies ?? []),
      cors: new CorsPolicy(options.corsOrigins ?? []),
    });
    return Object.assign(parts, { http });
  };
  const stop = async (instance: Awaited<ReturnType<typeof boot>>) => {
    // As the real shutdown: waiting requests answer, in-flight ones finish, then the rest is cut.
    instance.stopping.abort();
    const drained = instance.http.stop(false).then(() => true);
    if (!(await Promise.race([drained, Bun.sleep(2_000).then(() => false)]))) await instance.http.stop(true);
    await instance.stop();
  };

  const walDir = newWalDir();
  let current = await boot(0, stores, walDir);
  const port = current.http.port!;
  const server: TestServer = {
    url: `http://127.0.0.1:${port}`,
    stores,
    directory: current.directory,
    events: current.events,
    ingest: current.ingest,
    dispatcher: current.dispatcher,
    automation: current.automation,
    notifications,
    mqtt: options.mqtt ? current.mqtt : undefined,
    settled: async () => {
      await current.ingest.visible();
      await current.ingest.judged();
    },
    extraEngine: () =>
      new AutomationEngine({
        db: () => stores.db,
        clickhouse: () => stores.clickhouse,
        directory: current.directory,
        events: new EventHub(log),
        log,
        now,
        notify,
        tickIntervalMs: 0,
      }),
    client: (token) => createAppClient({ url: server.url, token }),
    // Ingest's memory is the server's: a whole restart forgets it, as a real one would.
    restartIngest: () => server.restart(),
    restart: async () => {
      await stop(current);
      // A new process would open its own handle: its copies in memory start empty.
      forgetReadings(ch.clickhouse);
      current = await boot(port, stores, walDir);
      server.directory = current.directory;
      server.events = current.events;
      server.ingest = current.ingest;
      server.dispatcher = current.dispatcher;
      server.automation = current.automation;
      server.mqtt = options.mqtt ? current.mqtt : undefined;
    },
    peer: async () => {
      const database = engine === "postgres" ? await openDatabase({ url: pg.url! }) : pg.database;
      const peerStores = new Stores({ openPostgres: async () => database, openClickhouse: () => ch.clickhouse, demoData: false }, log);
      await peerStores.start();
      const instance = await boot(0, peerStores, newWalDir(), false);
      const url = `http://127.0.0.1:${instance.http.port}`;
      return {
        url,
        directory: instance.directory,
        automation: instance.automation,
        ingest: instance.ingest,
        settled: async () => {
          await instance.ingest.visible();
          await instance.ingest.judged();
        },
        events: instance.events,
        dispatcher: instance.dispatcher,
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
      for (const dir of walDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
