import { openClickhouse } from "../clickhouse/client";
import { seedDemoReadings } from "../clickhouse/demo-readings";
import { mirrorStats } from "../clickhouse/mirror";
import { openDatabase } from "../db/client";
import { demoSensors } from "../db/seed/demo";
import { sessionCacheOf, type PasswordVerifier } from "./accounts";
import { claimDataDir, updateServerLockPort } from "./admin";
import { createApp, serveHttp } from "./http";
import { enqueueNotification } from "./notifications";
import { AutomationEngine, type Notify } from "./pipelines/automation";
import { createIngest } from "./pipelines/ingest";
import { createMqtt } from "./pipelines/mqtt";
import { NotificationDispatcher } from "./pipelines/notifications";
import { type Config, describeConfig, type DispatcherConfig, EventHub, type IngestLimits, type Logger, messageOf, type MqttConfig, relayChanges, Stores } from "./platform";
import { SiteDirectory } from "./sites";

/**
 * The composition root: `assemble` wires one server's parts over its stores (the site directory,
 * the change relay, ingest, automation, MQTT, the webhook dispatcher and the HTTP app), `startServer`
 * runs them as `npm start` does — claim DATA_DIR, listen at once, bring the stores up behind, and
 * shut down in order. Tests assemble servers the same way.
 */

export interface AssembleOptions {
  log: Logger;
  now: () => Date;
  ingest: IngestLimits;
  rawRetentionDays: number;
  notifications: DispatcherConfig;
  /** Tests tick the dispatcher and the engine by hand: false and 0. */
  runDispatcher: boolean;
  automationTickMs: number;
  /** Where the "notify" action goes: the webhook outbox unless a test listens in. */
  notify?: Notify;
  liveReadingsIntervalMs: number;
  adminSecret?: string;
  isShuttingDown?: () => boolean;
  /** Checks passwords: argon2id unless a test counts the checks. */
  passwords?: PasswordVerifier;
  fetch?: typeof fetch;
  random?: () => number;
  /** MQTT_URL / MQTT_LISTEN; without it (or with neither set) no MQTT runs. */
  mqtt?: MqttConfig;
}

export type ServerParts = ReturnType<typeof assemble>;

export function assemble(stores: Stores, options: AssembleOptions) {
  const { log, now } = options;
  const events = new EventHub(log.child({ component: "events" }));
  const directory = new SiteDirectory(() => stores.db);
  const stopping = new AbortController();
  const ingest = createIngest(stores, directory, options.ingest, log, events);
  const dispatcher = new NotificationDispatcher({
    db: () => stores.db,
    now,
    log: log.child({ component: "notifications" }),
    config: options.notifications,
    fetch: options.fetch,
    random: options.random,
  });
  const automation = new AutomationEngine({
    db: () => stores.db,
    clickhouse: () => stores.clickhouse,
    directory,
    events,
    log: log.child({ component: "automation" }),
    now,
    // The "notify" action goes to the site's webhooks through the durable outbox.
    notify: options.notify ?? (async (request) => void (await enqueueNotification(stores.db, request, now()))),
    tickIntervalMs: options.automationTickMs,
  });
  // Brokers feed the same ingest pipeline; nothing runs unless MQTT_URL or MQTT_LISTEN is set.
  const mqtt = createMqtt({
    config: options.mqtt ?? { bridge: null, listen: null },
    stores,
    ingest,
    directory,
    events,
    log,
    limits: { maxClockSkewMs: options.ingest.maxClockSkewMs, rawRetentionDays: options.rawRetentionDays },
    now,
  });
  const app = createApp({
    stores,
    directory,
    log,
    events,
    now,
    adminSecret: options.adminSecret,
    isShuttingDown: options.isShuttingDown,
    stopping: stopping.signal,
    automationStats: () => automation.stats(),
    deviceActivity: () => ingest.activity,
    liveReadingsIntervalMs: options.liveReadingsIntervalMs,
    passwords: options.passwords,
    ingest: { pipeline: () => ingest.pipeline, limits: options.ingest, rawRetentionDays: options.rawRetentionDays, degraded: ingest.degraded },
  });

  // Sessions taken away on any server (NOTIFY, relayed): forget the ones held here.
  const stopForgetting = events.on("access.changed", () => sessionCacheOf(stores).clear());
  let stopped = false;
  let stopRelay: (() => Promise<void>) | undefined;
  let stopDirectory: (() => void) | undefined;
  let stopPresence: (() => void) | undefined;
  /** Resolves once the stores are up, the relay listens, the directory follows it and background work runs. */
  const ready = (async () => {
    await stores.start();
    if (stopped || !stores.ready) return;
    stopRelay = await relayChanges(stores.postgres, events, log.child({ component: "changes" }));
    if (stopped) return void (await stopRelay().catch(() => {}));
    stopDirectory = directory.listen(events);
    automation.start();
    // Durable batches go to the engine, first those acknowledged but not judged before a restart.
    await ingest.attach((batch) => automation.evaluate(batch));
    // A device's own word on its presence (MQTT, relayed from whichever server got it): offline rules at once.
    stopPresence = events.on("device.presence", (change) => automation.presence(change));
    await mqtt.start();
    if (options.runDispatcher) dispatcher.start();
  })().catch((error) => log.error({ err: messageOf(error) }, "background services did not start"));

  return {
    events,
    directory,
    ingest,
    automation,
    mqtt,
    dispatcher,
    app,
    ready,
    /** Aborted when shutdown starts: long polls answer, live streams are cut. */
    stopping,
    /**
     * Stops what runs beside requests, once HTTP has drained: MQTT stops taking messages (those in
     * flight become durable and are acknowledged, the rest stay with the brokers), ingest commits
     * what is queued (its last batches are evaluated), the engine, the dispatcher and the relay
     * stop. Does not wait for `ready`: the stores may never come up, and shutdown must not hang on them.
     */
    async stop(): Promise<void> {
      stopped = true;
      await mqtt.stop().catch((error) => log.error({ err: error }, "mqtt stop failed"));
      stopPresence?.();
      await ingest.stop().catch((error) => log.error({ err: error }, "ingest drain failed"));
      log.info({ ingest: ingest.flusher.stats, memoryCopies: stores.ready ? mirrorStats(stores.clickhouse) : undefined }, "ingest totals");
      await automation.stop().catch((error) => log.error({ err: error }, "automation stop failed"));
      stopForgetting();
      stopDirectory?.();
      await dispatcher.stop().catch((error) => log.error({ err: error }, "stopping the dispatcher failed"));
      await stopRelay?.().catch(() => {});
    },
  };
}

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
      openClickhouse: () => openClickhouse({ target: config.clickhouse.target, database: config.clickhouse.database, cluster: config.clickhouse.cluster }),
      demoData: config.demoData,
      retention: config.retention,
    },
    log,
  );
  let shuttingDown = false;
  const parts = assemble(stores, {
    log,
    now: () => new Date(),
    ingest: config.ingest,
    rawRetentionDays: config.retention.rawDays,
    notifications: config.notifications,
    runDispatcher: true,
    automationTickMs: config.automationTickMs,
    liveReadingsIntervalMs: config.liveReadingsIntervalMs,
    adminSecret: dataDir.secret,
    isShuttingDown: () => shuttingDown,
    mqtt: config.mqtt,
  });
  let http;
  try {
    http = serveHttp({
      port: config.port,
      hostname: config.host,
      log,
      handle: parts.app.handle,
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
  void parts.ready.then(async () => {
    if (!stores.ready) return;
    if (config.demoData) {
      const generated = await seedDemoReadings(stores.clickhouse, await demoSensors(stores.db), new Date()).catch((error) => {
        log.warn({ err: messageOf(error) }, "demo readings not generated");
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
      parts.stopping.abort();
      const drained = http.stop(false).then(() => true);
      const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), config.shutdownTimeoutMs).unref());
      if (!(await Promise.race([drained, timedOut]))) {
        log.warn({ timeoutMs: config.shutdownTimeoutMs }, "in-flight requests did not finish in time; closing them");
        await http.stop(true);
      }
      // Requests waiting on a commit finished above; commit anything still queued, then the rest.
      await parts.stop();
      await stores.close();
      dataDir.release();
      log.info("stopped");
    })();
    return stopping;
  };
  return { port, stores, automation: parts.automation, shutdown };
}
