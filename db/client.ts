import { mkdirSync } from "node:fs";
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

export async function openDatabase(target: PostgresTarget): Promise<Database> {
  if ("url" in target) return openPostgres(target.url);
  if ("embeddedPath" in target) mkdirSync(target.embeddedPath, { recursive: true });
  const client = await PGlite.create("embeddedPath" in target ? target.embeddedPath : undefined);
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
