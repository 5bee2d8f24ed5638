import { queryRows, type Clickhouse } from "./client";
import { renderStatement } from "./ddl";

/**
 * Retention is configuration, not schema: after migrating, each table's TTL is set to the
 * configured days, and changed only when it differs (a TTL change rewrites parts in the
 * background, so it is not repeated on every start).
 */

export interface RetentionDays {
  /** Raw readings (default 90). Rollups keep the history beyond it. */
  rawDays: number;
  /** 1-minute and 1-hour rollups (default 730: two years). */
  rollupDays: number;
}

const TABLES: { table: string; column: string; pick: (r: RetentionDays) => number }[] = [
  { table: "readings", column: "toDateTime(ts)", pick: (r) => r.rawDays },
  { table: "readings_1m", column: "bucket", pick: (r) => r.rollupDays },
  { table: "readings_1h", column: "bucket", pick: (r) => r.rollupDays },
  // A retry of a batch older than the raw retention is refused anyway: its record goes with it.
  { table: "batches", column: "toDateTime(received_at)", pick: (r) => r.rawDays },
];

export async function applyRetention(ch: Clickhouse, retention: RetentionDays): Promise<string[]> {
  const changed: string[] = [];
  for (const { table, column, pick } of TABLES) {
    const days = pick(retention);
    const [row] = await queryRows<{ create_table_query: string }>(
      ch,
      "SELECT create_table_query FROM system.tables WHERE database = {db:String} AND name = {table:String}",
      { db: ch.database, table },
    );
    if (!row) continue;
    // ClickHouse stores `INTERVAL 90 DAY` as `toIntervalDay(90)`.
    if (row.create_table_query.includes(`TTL ${column} + toIntervalDay(${days})`)) continue;
    await ch.client.command({
      query: renderStatement(`ALTER TABLE {{database}}.${table} {{on_cluster}} MODIFY TTL ${column} + INTERVAL ${Math.trunc(days)} DAY`, {
        database: ch.database,
        cluster: ch.cluster,
      }),
    });
    changed.push(`${table}: ${days} days`);
  }
  return changed;
}
