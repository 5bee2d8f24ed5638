import { createAppClient, type AppClient } from "../../client";
import { createApp } from "../../server/app";
import type { IngestLimits } from "../../server/config";
import { DeviceAuthenticator } from "../../server/devices/device-auth";
import { EventHub } from "../../server/events/hub";
import { serveHttp } from "../../server/http";
import { createIngest, type Ingest } from "../../server/ingest";
import { createLogger } from "../../server/logger";
import { Stores } from "../../server/stores";
import { openTestClickhouse, openTestDatabase, type PostgresEngine } from "./stores";

export interface TestServer {
  url: string;
  stores: Stores;
  deviceAuth: DeviceAuthenticator;
  events: EventHub;
  ingest: Ingest;
  client: (token?: string) => AppClient;
  /** Forget everything the ingest pipeline holds in memory, as a server restart would. */
  restartIngest(): Promise<void>;
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

/**
 * The real Elysia app on a free loopback port, over fresh real stores: what a test talks to
 * through HTTP and the typed client.
 */
export async function startTestServer(
  engine: PostgresEngine,
  options: { now?: () => Date; ingest?: Partial<IngestLimits>; retention?: { rawDays: number; rollupDays: number } } = {},
): Promise<TestServer> {
  const pg = await openTestDatabase(engine);
  const ch = openTestClickhouse();
  const log = createLogger(process.env.TEST_LOG_LEVEL === "debug" ? "debug" : "silent");
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
  const deviceAuth = new DeviceAuthenticator(() => stores.db);
  const limits = { ...TEST_INGEST_LIMITS, ...options.ingest };
  const events = new EventHub(log);
  let ingest = createIngest(stores, limits, log, events);
  const app = createApp({
    stores,
    log,
    deviceAuth,
    events,
    now: options.now,
    ingest: { pipeline: () => ingest.pipeline, limits, rawRetentionDays: options.retention?.rawDays ?? 90,
      degraded: () => ingest.groupCommit.degraded,
      invalidateSensors: (deviceId) => ingest.sensors.invalidateDevice(deviceId),
    },
  });
  const http = serveHttp({ port: 0, hostname: "127.0.0.1", log, handle: app.handle, maxRequestBodySize: limits.maxBodyBytes });
  const url = `http://127.0.0.1:${http.port}`;
  const server: TestServer = {
    url,
    stores,
    deviceAuth,
    events,
    ingest,
    client: (token) => createAppClient({ url, token }),
    restartIngest: async () => {
      await ingest.stop();
      ingest = createIngest(stores, limits, log, events);
      server.ingest = ingest;
    },
    close: async () => {
      await http.stop(true);
      await ingest.stop();
      await pg.cleanup();
      await ch.cleanup();
    },
  };
  return server;
}
