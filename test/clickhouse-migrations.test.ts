import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { queryRows } from "../clickhouse/client";
import { renderMigration, renderStatement } from "../clickhouse/ddl";
import { appliedClickhouseMigrations, migrateClickhouse, readClickhouseMigrations } from "../clickhouse/migrate";
import { openTestClickhouse, type TestClickhouse } from "./support/stores";

const opened: TestClickhouse[] = [];
const fresh = () => {
  const t = openTestClickhouse();
  opened.push(t);
  return t.clickhouse;
};
afterAll(async () => {
  for (const t of opened) await t.cleanup();
});

describe("ClickHouse DDL for a single node and for a cluster", () => {
  test("every committed migration renders for both, with replicated engines and ON CLUSTER on a cluster", () => {
    const migrations = readClickhouseMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    for (const migration of migrations) {
      const single = renderMigration(migration.source, { database: "verdant" });
      const clustered = renderMigration(migration.source, { database: "verdant", cluster: "plants" });
      expect(clustered.length).toBe(single.length);
      for (const [i, statement] of single.entries()) {
        expect(statement).not.toContain("{{");
        expect(statement).not.toContain("ON CLUSTER");
        expect(statement).not.toContain("Replicated");
        const onCluster = clustered[i]!;
        expect(onCluster).toContain("ON CLUSTER plants");
        if (/ENGINE\s*=\s*\w*MergeTree/.test(statement)) expect(onCluster).toMatch(/ENGINE = Replicated\w*MergeTree\('/);
      }
    }
  });

  test("engine arguments are kept after the replication arguments", () => {
    const sql = renderStatement(
      "CREATE TABLE IF NOT EXISTS {{database}}.t {{on_cluster}} (a UInt8, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY a",
      { database: "db", cluster: "c1" },
    );
    expect(sql).toBe(
      "CREATE TABLE IF NOT EXISTS db.t ON CLUSTER c1 (a UInt8, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v) ORDER BY a",
    );
  });

  test("DDL without {{on_cluster}} or CREATE without IF NOT EXISTS is refused", () => {
    expect(() => renderStatement("CREATE TABLE IF NOT EXISTS {{database}}.t (a UInt8) ENGINE = MergeTree ORDER BY a", { database: "d" })).toThrow(
      /on_cluster/,
    );
    expect(() => renderStatement("CREATE TABLE {{database}}.t {{on_cluster}} (a UInt8) ENGINE = MergeTree ORDER BY a", { database: "d" })).toThrow(
      /IF NOT EXISTS/,
    );
    expect(() => renderStatement("ALTER TABLE {{database}}.t {{on_cluster}} MODIFY TTL {{ttl}}", { database: "d" })).toThrow(/\{\{ttl\}\}/);
  });
});

describe("ClickHouse migrations on chDB", () => {
  test("the first run applies every migration and records it; the second run is a no-op", async () => {
    const ch = fresh();
    const first = await migrateClickhouse(ch);
    expect(first.applied.length).toBe(readClickhouseMigrations().length);
    const tables = await queryRows<{ name: string }>(ch, "SELECT name FROM system.tables WHERE database = {db:String}", {
      db: ch.database,
    });
    expect(tables.map((t) => t.name)).toContain("readings");
    const second = await migrateClickhouse(ch);
    expect(second.applied).toEqual([]);
    expect((await appliedClickhouseMigrations(ch)).length).toBe(first.applied.length);
  });

  test("migrations apply in version order and a new file is picked up later", async () => {
    const ch = fresh();
    const folder = mkdtempSync(path.join(tmpdir(), "verdant-ch-mig-"));
    writeFileSync(
      path.join(folder, "0001_a.sql"),
      "CREATE TABLE IF NOT EXISTS {{database}}.a {{on_cluster}} (x UInt8) ENGINE = MergeTree ORDER BY x;\n",
    );
    expect((await migrateClickhouse(ch, { folder })).applied).toEqual(["0001_a"]);
    writeFileSync(
      path.join(folder, "0002_b.sql"),
      "-- adds a column\nALTER TABLE {{database}}.a {{on_cluster}} ADD COLUMN IF NOT EXISTS y String;\nINSERT INTO {{database}}.a (x, y) VALUES (1, 'one');\n",
    );
    expect((await migrateClickhouse(ch, { folder })).applied).toEqual(["0002_b"]);
    const rows = await queryRows<{ x: number; y: string }>(ch, `SELECT x, y FROM ${ch.database}.a`);
    expect(rows).toEqual([{ x: 1, y: "one" }]);
  });

  test("a migration edited after it was applied is refused", async () => {
    const ch = fresh();
    const folder = mkdtempSync(path.join(tmpdir(), "verdant-ch-mig-"));
    const file = path.join(folder, "0001_a.sql");
    writeFileSync(file, "CREATE TABLE IF NOT EXISTS {{database}}.a {{on_cluster}} (x UInt8) ENGINE = MergeTree ORDER BY x;\n");
    await migrateClickhouse(ch, { folder });
    writeFileSync(file, "CREATE TABLE IF NOT EXISTS {{database}}.a {{on_cluster}} (x UInt16) ENGINE = MergeTree ORDER BY x;\n");
    await expect(migrateClickhouse(ch, { folder })).rejects.toThrow(/changed after it was applied/);
  });
});
