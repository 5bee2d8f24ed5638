import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { queryRows, type Clickhouse } from "./client";
import { MigrationSqlError, renderMigration, renderStatement, type DdlContext } from "./ddl";

export const CLICKHOUSE_MIGRATIONS_FOLDER = path.join(import.meta.dir, "migrations");

export interface ClickhouseMigration {
  version: string;
  name: string;
  checksum: string;
  source: string;
}

export interface ClickhouseMigrationResult {
  /** Versions applied by this run: empty on every start after the first. */
  applied: string[];
  total: number;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads `NNNN_name.sql` files in version order. The checksum is of the file as written. */
export function readClickhouseMigrations(folder = CLICKHOUSE_MIGRATIONS_FOLDER): ClickhouseMigration[] {
  return readdirSync(folder)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new MigrationSqlError(`migration file name must look like 0001_name.sql: ${file}`);
      const source = readFileSync(path.join(folder, file), "utf8");
      return {
        version: match[1]!,
        name: match[2]!,
        checksum: createHash("sha256").update(source).digest("hex"),
        source,
      };
    })
    .sort((a, b) => a.version.localeCompare(b.version));
}

function contextOf(ch: Clickhouse, vars?: Record<string, string | number>): DdlContext {
  return { database: ch.database, cluster: ch.cluster, vars };
}

/** The journal of applied migrations lives next to the tables it describes. */
const JOURNAL_DDL = [
  "CREATE DATABASE IF NOT EXISTS {{database}} {{on_cluster}}",
  `CREATE TABLE IF NOT EXISTS {{database}}.schema_migrations {{on_cluster}} (
    version String,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
];

export async function appliedClickhouseMigrations(
  ch: Clickhouse,
): Promise<{ version: string; name: string; checksum: string; appliedAt: string }[]> {
  const exists = await queryRows<{ n: number | string }>(
    ch,
    "SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = 'schema_migrations'",
    { db: ch.database },
  );
  if (Number(exists[0]?.n ?? 0) === 0) return [];
  // Several servers starting at once may each record a version: the earliest record stands.
  return queryRows(
    ch,
    `SELECT version, any(name) AS name, argMin(checksum, applied_at) AS checksum, toString(min(applied_at)) AS appliedAt
     FROM ${ch.database}.schema_migrations GROUP BY version ORDER BY version`,
  );
}

/**
 * Applies pending migrations in order and records each one. Every statement is idempotent
 * (IF NOT EXISTS), so a run interrupted half-way, or two servers migrating at once, end in the
 * same schema. A migration changed after it was applied is refused rather than silently skipped.
 */
export async function migrateClickhouse(
  ch: Clickhouse,
  options: { folder?: string; vars?: Record<string, string | number> } = {},
): Promise<ClickhouseMigrationResult> {
  const context = contextOf(ch, options.vars);
  for (const statement of JOURNAL_DDL) await ch.client.command({ query: renderStatement(statement, context) });

  const migrations = readClickhouseMigrations(options.folder);
  const applied = new Map((await appliedClickhouseMigrations(ch)).map((m) => [m.version, m]));
  const appliedNow: string[] = [];
  for (const migration of migrations) {
    const previous = applied.get(migration.version);
    if (previous) {
      if (previous.checksum !== migration.checksum) {
        throw new MigrationSqlError(
          `ClickHouse migration ${migration.version}_${migration.name}.sql was changed after it was applied; add a new migration instead`,
        );
      }
      continue;
    }
    for (const statement of renderMigration(migration.source, context)) {
      await ch.client.command({ query: statement });
    }
    await ch.client.insert({
      table: `${ch.database}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: "JSONEachRow",
    });
    appliedNow.push(`${migration.version}_${migration.name}`);
  }
  return { applied: appliedNow, total: migrations.length };
}

/** Drops the whole Verdant database (readings, rollups, journal), for `reset`. */
export async function dropClickhouseData(ch: Clickhouse): Promise<void> {
  await ch.client.command({
    query: renderStatement("DROP DATABASE IF EXISTS {{database}} {{on_cluster}} SYNC", contextOf(ch)),
  });
}

/** Row counts of every table in the Verdant database, for `status`. */
export async function clickhouseRowCounts(ch: Clickhouse): Promise<Record<string, number>> {
  const rows = await queryRows<{ name: string; rows: number | string | null }>(
    ch,
    "SELECT name, total_rows AS rows FROM system.tables WHERE database = {db:String} AND engine NOT LIKE '%View' ORDER BY name",
    { db: ch.database },
  );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.rows ?? 0)]));
}
