import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { createChdbConnection } from "chdb/connection";

export type ClickhouseTarget = { url: string; user: string; password: string } | { embeddedPath: string };

export interface Clickhouse {
  client: ClickHouseClient;
  kind: "chdb" | "server";
  /**
   * Every statement names its tables as `database.table`: chDB has no per-connection default
   * database, so qualified names are what keeps one code path for both engines.
   */
  database: string;
  /** When set, DDL runs `ON CLUSTER` with Replicated engines. */
  cluster: string | undefined;
  /**
   * chDB only: a private directory for files the engine reads with file() (binary inserts),
   * removed on close.
   */
  scratchDir: string | undefined;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface ClickhouseOptions {
  target: ClickhouseTarget;
  database: string;
  cluster?: string | undefined;
}

export function openClickhouse(options: ClickhouseOptions): Clickhouse {
  const { target, database, cluster } = options;
  let client: ClickHouseClient;
  let kind: Clickhouse["kind"];
  let scratchDir: string | undefined;
  if ("url" in target) {
    kind = "server";
    client = createClient({
      url: target.url,
      username: target.user,
      password: target.password,
      request_timeout: 30_000,
      // Large group-commit inserts compress well; queries return compressed too.
      compression: { request: true, response: true },
    });
  } else {
    kind = "chdb";
    mkdirSync(target.embeddedPath, { recursive: true });
    scratchDir = mkdtempSync(join(scratchRoot(), "verdant-chdb-"));
    client = createClient({ connection: createChdbConnection({ path: target.embeddedPath }) } as Parameters<
      typeof createClient
    >[0]);
  }
  return {
    client,
    kind,
    database,
    cluster,
    scratchDir,
    ping: async () => {
      const result = await client.ping();
      if (!result.success) throw result.error;
    },
    close: async () => {
      await client.close();
      if (kind === "chdb") {
        // A chDB connection closed while the engine still runs a query is only really gone once
        // drained; exiting (or reopening the directory) before that can abort the engine.
        const { drainPending } = await import("chdb");
        await drainPending();
        rmSync(scratchDir!, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Where chDB's scratch files go: shared memory when the system has it (a file there never
 * touches the disk or its filesystem's inode allocator, and lives only for one INSERT), else
 * the temp directory.
 */
function scratchRoot(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

/** Runs a query with `{name:Type}` parameters and returns its rows. */
export async function queryRows<T>(
  ch: Clickhouse,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const result = await ch.client.query({ query, query_params: params, format: "JSONEachRow" });
  return result.json<T>();
}
