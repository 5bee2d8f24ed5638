import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import postgres from "postgres";
import { openClickhouse, type Clickhouse } from "../../clickhouse/client";
import { openDatabase, type Database } from "../../db/client";

/**
 * Real engines for tests: PGlite always, a PostgreSQL server too when TEST_DATABASE_URL is set
 * (each test database is created fresh and dropped afterwards), and chDB in a per-process
 * directory with a fresh ClickHouse database per suite.
 */

export type PostgresEngine = "pglite" | "postgres";

/** The engines every Postgres-touching suite runs against. */
export const postgresEngines: PostgresEngine[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

export interface TestDatabase {
  database: Database;
  /** The URL of the fresh database on the server, for the postgres engine. */
  url?: string;
  cleanup(): Promise<void>;
}

const uniqueName = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;

export async function openTestDatabase(engine: PostgresEngine): Promise<TestDatabase> {
  if (engine === "pglite") {
    const database = await openDatabase({ inMemory: true });
    return { database, cleanup: () => database.close() };
  }
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = uniqueName("verdant_test");
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString() });
  return {
    database,
    url: url.toString(),
    cleanup: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export interface TestClickhouse {
  clickhouse: Clickhouse;
  cleanup(): Promise<void>;
}

/** A fresh ClickHouse database in the process's shared chDB directory. */
export function openTestClickhouse(options: { cluster?: string } = {}): TestClickhouse {
  const path = process.env.VERDANT_TEST_CHDB_PATH;
  if (!path) throw new Error("test/preload.ts did not run (bunfig.toml preloads it)");
  const clickhouse = openClickhouse({ target: { embeddedPath: path }, database: uniqueName("t"), cluster: options.cluster });
  return {
    clickhouse,
    cleanup: async () => {
      // Other suites share the engine: drop this suite's database but keep the connection's engine
      // alive; its scratch directory goes now (bun test does not run process exit handlers).
      // A server the suite started may still be migrating this database on another connection
      // (statements run in parallel, clickhouse/chdb-pool.ts): the engine then refuses the DROP
      // (DATABASE_NOT_EMPTY, "new table appeared") until that DDL is done.
      for (let attempt = 1; ; attempt++) {
        try {
          await clickhouse.client.command({ query: `DROP DATABASE IF EXISTS ${clickhouse.database} SYNC` });
          break;
        } catch (error) {
          if (attempt >= 50 || (error as { type?: string }).type !== "DATABASE_NOT_EMPTY") throw error;
          await Bun.sleep(100);
        }
      }
      if (clickhouse.scratchDir) rmSync(clickhouse.scratchDir, { recursive: true, force: true });
    },
  };
}
