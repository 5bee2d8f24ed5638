/**
 * The one place that turns migration SQL into the statements for this deployment: a single node
 * (chDB or one server) or a cluster. Migrations are written once, for a single node, with
 * `{{database}}` before every table name and `{{on_cluster}}` after every object name in DDL;
 * with a cluster configured the same file becomes `ON CLUSTER` DDL on Replicated engines, so the
 * two shapes cannot drift apart.
 */

export interface DdlContext {
  database: string;
  cluster?: string | undefined;
  /** Further `{{name}}` values a migration may use (for example retention days). */
  vars?: Record<string, string | number>;
}

export class MigrationSqlError extends Error {
  override name = "MigrationSqlError";
}

const DDL_START = /^\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b/i;
const ENGINE = /ENGINE\s*=\s*(Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing)?MergeTree\b(?:\s*\(([^)]*)\))?/gi;

/** Splits a migration into statements: each ends with `;` at the end of a line. */
export function splitStatements(source: string): string[] {
  const withoutComments = source
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n");
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Renders one migration file into executable statements for the given context. */
export function renderMigration(source: string, context: DdlContext): string[] {
  return splitStatements(source).map((statement) => renderStatement(statement, context));
}

export function renderStatement(statement: string, context: DdlContext): string {
  if (DDL_START.test(statement) && !statement.includes("{{on_cluster}}")) {
    throw new MigrationSqlError(
      `DDL must say {{on_cluster}} after the object name so it also runs on a cluster: ${firstLine(statement)}`,
    );
  }
  if (/^\s*CREATE\b/i.test(statement) && !/\bIF NOT EXISTS\b/i.test(statement)) {
    // ClickHouse DDL is not transactional: a migration that stopped half-way is simply run again.
    throw new MigrationSqlError(`CREATE must say IF NOT EXISTS so a re-run is harmless: ${firstLine(statement)}`);
  }
  const vars: Record<string, string | number> = {
    ...context.vars,
    database: context.database,
    on_cluster: context.cluster ? `ON CLUSTER ${context.cluster}` : "",
  };
  let rendered = statement.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new MigrationSqlError(`unknown template variable {{${name}}} in: ${firstLine(statement)}`);
    return String(value);
  });
  if (context.cluster) rendered = rendered.replace(ENGINE, replicatedEngine);
  return rendered;
}

/**
 * `ReplacingMergeTree(version)` becomes `ReplicatedReplacingMergeTree('<zk path>', '{replica}', version)`.
 * `{shard}` and `{replica}` are the servers' own macros; `{database}` and `{table}` ClickHouse fills in.
 */
function replicatedEngine(_match: string, family: string | undefined, args: string | undefined): string {
  const replication = `'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'`;
  const rest = args?.trim() ? `, ${args.trim()}` : "";
  return `ENGINE = Replicated${family ?? ""}MergeTree(${replication}${rest})`;
}

function firstLine(statement: string): string {
  return statement.split("\n")[0]!.trim();
}
