import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { queryRows, type Clickhouse } from "../clickhouse/client";
import { renderMigration, renderStatement } from "../clickhouse/ddl";
import { appliedClickhouseMigrations, CLICKHOUSE_MIGRATIONS_FOLDER, migrateClickhouse, readClickhouseMigrations } from "../clickhouse/migrate";
import { keepReplacedParts, OLD_PARTS_LIFETIME_SECONDS } from "../clickhouse/old-parts";
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

  test("a store with readings from before the slim schema keeps them, each batch still recognisable by its id", async () => {
    const ch = fresh();
    const db = ch.database;
    // The schema as it was before 0004, with readings in it.
    const before = mkdtempSync(path.join(tmpdir(), "verdant-ch-mig-"));
    const upTo = (version: string) => {
      for (const m of readClickhouseMigrations()) {
        if (m.version <= version) copyFileSync(path.join(CLICKHOUSE_MIGRATIONS_FOLDER, `${m.version}_${m.name}.sql`), path.join(before, `${m.version}_${m.name}.sql`));
      }
    };
    upTo("0003");
    await migrateClickhouse(ch, { folder: before });
    const sensor = crypto.randomUUID();
    await ch.client.command({
      query: `INSERT INTO ${db}.readings (sensor_id, metric, ts, value, raw_value, batch_id)
              VALUES ({s:UUID}, 'temperature', '2026-01-01 10:00:00', 20, 20, 'old-1'), ({s:UUID}, 'temperature', '2026-01-01 10:00:30', 22, 21, 'old-2')`,
      query_params: { s: sensor },
    });
    // 0004 runs, and (as after an interruption before it was recorded) runs again: same hashes.
    upTo("0004");
    await migrateClickhouse(ch, { folder: before });
    const source0004 = readClickhouseMigrations().find((m) => m.version === "0004")!.source;
    for (const statement of renderMigration(source0004, { database: db })) await ch.client.command({ query: statement });
    expect((await migrateClickhouse(ch)).applied).toEqual(readClickhouseMigrations().filter((m) => m.version > "0004").map((m) => `${m.version}_${m.name}`));

    const rows = await queryRows<{ ts: string; value: number; raw_value: number; old: number }>(
      ch,
      `SELECT toString(ts) AS ts, value, raw_value, batch = xxHash64(if(value = 20, 'old-1', 'old-2')) AS old FROM ${db}.readings WHERE sensor_id = {s:UUID} ORDER BY ts`,
      { s: sensor },
    );
    expect(rows).toEqual([
      { ts: "2026-01-01 10:00:00.000", value: 20, raw_value: 20, old: 1 },
      { ts: "2026-01-01 10:00:30.000", value: 22, raw_value: 21, old: 1 },
    ]);
    const columns = await queryRows<{ name: string }>(ch, "SELECT name FROM system.columns WHERE database = {db:String} AND table = 'readings' ORDER BY position", { db });
    expect(columns.map((c) => c.name)).toEqual(["sensor_id", "ts", "value", "raw_value", "batch"]);

    // The views were recreated: a new reading reaches the rollups and the latest value, next to the old ones.
    await ch.client.command({
      query: `INSERT INTO ${db}.readings (sensor_id, ts, value, raw_value, batch) VALUES ({s:UUID}, '2026-01-01 10:00:45', 30, 30, xxHash64('new'))`,
      query_params: { s: sensor },
    });
    const minute = await queryRows<{ n: number | string; avg: number; last: number }>(
      ch,
      `SELECT sum(count) AS n, sum(sum_value) / sum(count) AS avg, argMaxMerge(last_value) AS last FROM ${db}.readings_1m WHERE sensor_id = {s:UUID}`,
      { s: sensor },
    );
    expect(minute.map((r) => ({ ...r, n: Number(r.n) }))).toEqual([{ n: 3, avg: 24, last: 30 }]);
    const [hour] = await queryRows<{ n: number | string }>(ch, `SELECT sum(count) AS n FROM ${db}.readings_1h WHERE sensor_id = {s:UUID}`, { s: sensor });
    expect(Number(hour!.n)).toBe(3);
    const latest = await queryRows<{ v: number }>(ch, `SELECT argMax(value, ts) AS v FROM ${db}.readings_latest WHERE sensor_id = {s:UUID}`, { s: sensor });
    expect(latest).toEqual([{ v: 30 }]);

    // 0005 again (interrupted before it was recorded) changes nothing.
    const source0005 = readClickhouseMigrations().find((m) => m.version === "0005")!.source;
    for (const statement of renderMigration(source0005, { database: db })) await ch.client.command({ query: statement });
    const [again] = await queryRows<{ n: number | string }>(ch, `SELECT count() AS n FROM ${db}.readings WHERE sensor_id = {s:UUID}`, { s: sensor });
    expect(Number(again!.n)).toBe(3);
  });
});

describe("parts a merge replaced", () => {
  const insertOne = (ch: Clickhouse, value: number) =>
    ch.client.command({
      query: `INSERT INTO ${ch.database}.readings (sensor_id, ts, value, raw_value, batch) VALUES (generateUUIDv4(), now64(3), {v:Float64}, {v:Float64}, {v:UInt64})`,
      query_params: { v: value },
    });
  const mergeTwoParts = async (ch: Clickhouse) => {
    for (const value of [1, 2]) await insertOne(ch, value);
    await ch.client.command({ query: `OPTIMIZE TABLE ${ch.database}.readings FINAL` });
  };
  const replacedParts = async (ch: Clickhouse) =>
    Number(
      (await queryRows<{ n: number | string }>(ch, "SELECT count() AS n FROM system.parts WHERE database = {db:String} AND table = 'readings' AND NOT active", { db: ch.database }))[0]!.n,
    );

  test(`the embedded engine keeps them ${OLD_PARTS_LIFETIME_SECONDS} s, where chDB's own default deletes them at once`, async () => {
    const kept = fresh();
    await migrateClickhouse(kept);
    const changed = await keepReplacedParts(kept);
    expect(changed).toEqual(expect.arrayContaining(["readings", "readings_1m", "readings_1h", "readings_latest"]));
    expect(await keepReplacedParts(kept)).toEqual([]); // set once, not on every start
    const plain = fresh();
    await migrateClickhouse(plain);
    await mergeTwoParts(kept);
    await mergeTwoParts(plain);
    // The engine's cleanup visits an idle table every 30-40 s (cleanup_delay_period): wait for the
    // plain table's replaced parts to go; the kept table's, merged at the same time, are still there.
    for (const deadline = Date.now() + 75_000; Date.now() < deadline && (await replacedParts(plain)) > 0; ) await Bun.sleep(500);
    expect(await replacedParts(plain)).toBe(0);
    expect(await replacedParts(kept)).toBe(2);
  }, 120_000);
});
