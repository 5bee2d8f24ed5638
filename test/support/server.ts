import { createAppClient, type AppClient } from "../../client";
import { DeviceAuthenticator } from "../../server/devices/device-auth";
import { createApp } from "../../server/app";
import { serveHttp } from "../../server/http";
import { createLogger } from "../../server/logger";
import { Stores } from "../../server/stores";
import { openTestClickhouse, openTestDatabase, type PostgresEngine } from "./stores";

export interface TestServer {
  url: string;
  stores: Stores;
  deviceAuth: DeviceAuthenticator;
  client: (token?: string) => AppClient;
  close(): Promise<void>;
}

/**
 * The real Elysia app on a free loopback port, over fresh real stores: what a test talks to
 * through HTTP and the typed client.
 */
export async function startTestServer(engine: PostgresEngine, options: { now?: () => Date } = {}): Promise<TestServer> {
  const pg = await openTestDatabase(engine);
  const ch = openTestClickhouse();
  const log = createLogger(process.env.TEST_LOG_LEVEL === "debug" ? "debug" : "silent");
  const stores = new Stores(
    { openPostgres: async () => pg.database, openClickhouse: () => ch.clickhouse, demoData: false },
    log,
  );
  await stores.start();
  const deviceAuth = new DeviceAuthenticator(() => stores.db);
  const app = createApp({ stores, log, deviceAuth, now: options.now });
  const http = serveHttp({ port: 0, hostname: "127.0.0.1", log, handle: app.handle });
  const url = `http://127.0.0.1:${http.port}`;
  return {
    url,
    stores,
    deviceAuth,
    client: (token) => createAppClient({ url, token }),
    close: async () => {
      await http.stop(true);
      await pg.cleanup();
      await ch.cleanup();
    },
  };
}
