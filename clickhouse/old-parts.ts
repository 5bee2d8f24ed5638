import { queryRows, type Clickhouse } from "./client";

/**
 * How long the embedded engine keeps the parts a merge replaced: 480 s, the ClickHouse server's
 * own default. chDB ships 0, which deletes them the moment the merged part exists.
 *
 * That is a durability hole. Without fsync (ClickHouse's default), a merged part can still be in
 * the page cache when the power goes; on restart ClickHouse finds it broken and falls back to the
 * parts it replaced, but only if they are still on disk. With 0 they are not, and readings that
 * were acknowledged long ago, and written out long ago, go with the merge.
 *
 * It is also what made the embedded engine's INSERTs stall under heavy ingest: deleting merged
 * parts as fast as they are made, each a dozen files, slows the creation of the next parts on
 * ext4 (in alternating runs of the ingest benchmark its p99 was 174–176 ms against 275–395 ms).
 * The deletions still come, 8 minutes later and in batches: the README's ingest section shows a
 * sustained run past that point, where the p99 is over 250 ms again.
 *
 * A ClickHouse server has its own default (and its operator's configuration), left as it is.
 */
export const OLD_PARTS_LIFETIME_SECONDS = 480;

/** Sets the lifetime on every MergeTree table of the embedded database that lacks it; returns the tables changed. */
export async function keepReplacedParts(ch: Clickhouse): Promise<string[]> {
  if (ch.kind !== "chdb") return [];
  const tables = await queryRows<{ name: string; create_table_query: string }>(
    ch,
    "SELECT name, create_table_query FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree'",
    { db: ch.database },
  );
  const changed: string[] = [];
  for (const { name, create_table_query } of tables) {
    if (create_table_query.includes(`old_parts_lifetime = ${OLD_PARTS_LIFETIME_SECONDS}`)) continue;
    // A table name from system.tables, quoted as an identifier; the value is a constant.
    await ch.client.command({
      query: `ALTER TABLE ${ch.database}.\`${name.replaceAll("`", "``")}\` MODIFY SETTING old_parts_lifetime = ${OLD_PARTS_LIFETIME_SECONDS}`,
    });
    changed.push(name);
  }
  return changed;
}
