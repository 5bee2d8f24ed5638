import { openClickhouse } from "../clickhouse/client";
import { seedDemoReadings } from "../clickhouse/demo-readings";
import { demoSensors } from "../db/seed/demo";
import { openDatabase } from "../db/client";
import { claimDataDir, updateServerLockPort } from "./admin/server-lock";
import { createApp } from "./app";
import { AutomationEngine } from "./automation/engine";
import { DeviceAuthenticator } from "./devices/device-auth";
import { EventHub } from "./events/hub";
import { serveHttp } from "./http";
import { createIngest } from "./ingest";
import { describeConfig, type Config } from "./config";
import type { Logger } from "./logger";
import { enqueueNotification } from "./notifications";
import { startServices } from "./services";
import { Stores } from "./stores";

export interface RunningServer {
  port: number;
  stores: Stores;
  automation: AutomationEngine;
  /** Stops accepting, lets in-flight requests finish, closes both stores. Idempotent. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Starts the HTTP server at once and brings the stores up behind it. Start-up only fails for
 * reasons that no retry can fix (another server owns DATA_DIR, the port is taken).
 */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  log.info({ config: describeConfig(config) }, "starting");
  const dataDir = claimDataDir(config.dataDir, { port: config.port, host: config.host });
  const stores = new Stores(
    {
      openPostgres: () => openDatabase(config.postgres),
      openClickhouse: () =>
        openClickhouse({
          target: config.clickhouse.target,
          database: config.clickhouse.database,
          cluster: config.clickhouse.cluster,
        }),
      demoData: config.demoData,
      retention: config.retention,
    },
    log,
  );
  let shuttingDown = false;
  const stopRequests = new AbortController();
  const deviceAuth = new DeviceAuthenticator(() => stores.db);
  const events = new EventHub(log.child({ component: "events" }));
  const ingest = createIngest(stores, config.ingest, log, events);
  const services = startServices({ stores, events, log, now: () => new Date(), notifications: config.notifications, runDispatcher: true });
  const automation = new AutomationEngine({
    db: () => stores.db,
    clickhouse: () => stores.clickhouse,
    events,
    log: log.child({ component: "automation" }),
    now: () => new Date(),
    // The "notify" action goes to the site's webhooks through the durable outbox.
    notify: async (request) => void (await enqueueNotification(stores.db, request, new Date())),
    tickIntervalMs: config.automationTickMs,
  });
  const app = createApp({
    stores,
    log,
    deviceAuth,
    events,
    automationStats: () => automation.stats(),
    ingest: { pipeline: () => ingest.pipeline, limits: config.ingest, rawRetentionDays: config.retention.rawDays,
      degraded: () => ingest.groupCommit.degraded,
      invalidateSensors: (deviceId) => ingest.sensors.invalidateDevice(deviceId),
    },
    adminSecret: dataDir.secret, isShuttingDown: () => shuttingDown,
    stopping: stopRequests.signal,
    liveReadingsIntervalMs: config.liveReadingsIntervalMs,
  });
  let http;
  try {
    http = serveHttp({
      port: config.port,
      hostname: config.host,
      log,
      handle: app.handle,
      maxRequestBodySize: config.ingest.maxBodyBytes,
      trustedProxies: config.http.trustedProxies,
      cors: config.http.cors,
    });
  } catch (error) {
    dataDir.release();
    throw error;
  }
  const port = http.port!;
  updateServerLockPort(config.dataDir, port);
  log.info({ port, host: config.host }, "listening");
  void stores.start().then(async () => {
    if (!stores.ready) return;
    if (!shuttingDown) automation.start();
    if (config.demoData) {
      const generated = await seedDemoReadings(stores.clickhouse, await demoSensors(stores.db), new Date()).catch((error) => {
        log.warn({ err: error instanceof Error ? error.message : String(error) }, "demo readings not generated");
        return 0;
      });
      if (generated > 0) log.info({ readings: generated }, "demo readings generated");
    }
    log.info("ready");
  });

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      shuttingDown = true;
      log.info({ reason }, "shutting down: no new requests, draining in-flight work");
      // Long polls answer and live streams end now, instead of holding the drain below.
      stopRequests.abort();
      const drained = http.stop(false).then(() => true);
      const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), config.shutdownTimeoutMs).unref());
      if (!(await Promise.race([drained, timedOut]))) {
        log.warn({ timeoutMs: config.shutdownTimeoutMs }, "in-flight requests did not finish in time; closing them");
        await http.stop(true);
      }
      // Requests waiting on a commit finished above; commit anything still queued.
      await ingest.stop().catch((error) => log.error({ err: error }, "ingest drain failed"));
      log.info({ ingest: ingest.groupCommit.stats }, "ingest totals");
      // After ingest has drained (its last batches are evaluated), before the stores close.
      await automation.stop().catch((error) => log.error({ err: error }, "automation stop failed"));
      await services.stop().catch((error) => log.error({ err: error }, "stopping background services failed"));
      await stores.close();
      dataDir.release();
      log.info("stopped");
    })();
    return stopping;
  };
  return { port, stores, automation, shutdown };
}
