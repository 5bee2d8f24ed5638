import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Schema = typeof schema;
/** The Drizzle database every module works with, whichever engine is behind it. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type PostgresTarget = { url: string } | { embeddedPath: string } | { inMemory: true };

export interface Database {
  db: Db;
  kind: "pglite" | "postgres";
  /** Runs `select 1`; rejects with the driver's error when the server cannot be reached. */
  ping(): Promise<void>;
  /**
   * Runs `fn` while holding a cluster-wide lock, so two servers starting together against one
   * PostgreSQL server do not both apply the same migration. PGlite is single-process: no lock needed.
   */
  withMigrationLock<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /**
   * LISTENs on a channel: `onPayload` gets every NOTIFY payload, from this process or any other
   * server on the same PostgreSQL, once the notifying transaction commits. postgres-js keeps a
   * dedicated connection for it and re-listens after reconnecting; `onListen` runs each time it
   * listens (again), since notifications sent while it was not listening are lost. Resolves to the
   * unlisten function.
   */
  listen(channel: string, onListen: () => void, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Arbitrary constant identifying Verdant's migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 7_310_552_001;

/**
 * PGlite's start parameters: its defaults plus a smaller buffer pool. PGlite's 128 MB of shared
 * buffers are resident from the start (about half of the embedded server's memory at idle), while
 * app data of a home fleet or a greenhouse is a few megabytes and what falls out of the pool is
 * still in the operating system's page cache. 16 MB keeps the embedded default within its memory
 * budget (docs/benchmarks.md); a PostgreSQL server (DATABASE_URL) is sized by its own settings.
 */
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

export async function openDatabase(target: PostgresTarget): Promise<Database> {
  if ("url" in target) return openPostgres(target.url);
  const client = "embeddedPath" in target ? await openEmbedded(target.embeddedPath) : await PGlite.create({ startParams: PGLITE_START_PARAMS });
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    ping: async () => {
      await client.query("select 1");
    },
    withMigrationLock: (fn) => fn(db),
    listen: async (channel, onListen, onPayload) => {
      const unlisten = await client.listen(channel, onPayload);
      onListen();
      return unlisten;
    },
    close: () => client.close(),
  };
}

/**
 * Opens PGlite on a directory, creating the cluster on first use. Creating it runs initdb in a
 * second WebAssembly instance that the new PGlite keeps reachable while it is open: about 700 MB
 * resident for the server's lifetime. Closing and reopening once after creation releases it.
 */
async function openEmbedded(path: string): Promise<PGlite> {
  mkdirSync(path, { recursive: true });
  const created = !existsSync(join(path, "PG_VERSION"));
  const client = await PGlite.create(path, { startParams: PGLITE_START_PARAMS });
  if (!created) return client;
  await client.close();
  return PGlite.create(path, { startParams: PGLITE_START_PARAMS });
}

function openPostgres(url: string): Database {
  const client = postgres(url, {
    max: 10,
    connect_timeout: 5,
    // Notices such as "schema drizzle already exists, skipping" are noise in our logs.
    onnotice: () => {},
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    ping: async () => {
      await client`select 1`;
    },
    withMigrationLock: async (fn) => {
      // Advisory locks belong to a session: one reserved connection holds the lock while the
      // migration runs on the pool; another server's migration waits on its own lock request.
      const reserved = await client.reserve();
      try {
        await reserved`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        return await fn(db);
      } finally {
        await reserved`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
        reserved.release();
      }
    },
    listen: async (channel, onListen, onPayload) => {
      const { unlisten } = await client.listen(channel, onPayload, onListen);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** Row counts of every application table, for `status`. */
export async function tableRowCounts(db: Db): Promise<Record<string, number>> {
  const tables = await db.execute(
    sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
  );
  const counts: Record<string, number> = {};
  for (const { table_name } of rowsOf<{ table_name: string }>(tables)) {
    const result = await db.execute(sql`select count(*)::int as n from ${sql.identifier(table_name)}`);
    counts[table_name] = Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
  }
  return counts;
}

/** PGlite returns `{ rows }`, postgres-js returns the rows array itself. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
