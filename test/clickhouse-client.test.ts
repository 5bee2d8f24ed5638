import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "..");

test("a process that exits without closing its chDB connection leaves no scratch directory behind", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "verdant-ch-exit-"));
  try {
    // Opens the embedded engine, reports its scratch directory, and exits without close().
    const script = `
      import { openClickhouse } from "./clickhouse/client";
      const ch = openClickhouse({ target: { embeddedPath: ${JSON.stringify(dataDir)} }, database: "verdant" });
      await ch.ping();
      console.log(ch.scratchDir);
      process.exit(0);
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    const scratchDir = out.trim();
    expect(path.basename(scratchDir)).toStartWith("verdant-chdb-");
    expect(existsSync(scratchDir)).toBe(false);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);

// chDB formats `{name:Type}` parameters in JavaScript before the engine sees them. Every
// character that needs escaping must arrive as sent, alone, in an Array parameter, and next to
// plain ids.
test("query parameters reach the engine exactly as sent, escapable characters and all", async () => {
  const { openTestClickhouse } = await import("./support/stores");
  const { queryRows } = await import("../clickhouse/client");
  const { bindParameters } = await import("../clickhouse/chdb-pool");
  const t = openTestClickhouse();
  try {
    const tricky = ["it's", "back\\slash", "tab\there", "new\nline", "carriage\rreturn", "nul\0byte", "bell\bform\ffeed", "\\'", "plain", "'); DROP DATABASE x; --", "{s:String}", "del\u007f", "ünïcødé 🌱"];
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    for (const text of tricky) {
      const [row] = await queryRows<{ s: string; a: string[]; n: number }>(
        t.clickhouse,
        "SELECT {s:String} AS s, {a:Array(String)} AS a, length({ids:Array(UUID)}) AS n",
        { s: text, a: [text, ...ids], ids },
      );
      expect(row).toEqual({ s: text, a: [text, ...ids], n: 2 });
      // The embedded engine gets them bound into the SQL text (clickhouse/chdb-pool.ts), not as parameters.
      expect(bindParameters("SELECT {s:String} AS s, {a:Array(String)} AS a", { s: text, a: [text, ...ids] })).toBeString();
    }
  } finally {
    await t.cleanup();
  }
}, 60_000);

// chDB's connection turns a call's clickhouse_settings into session-wide SETs that outlive the
// call. Ingest's flushes carry a deduplication token: had it stayed set, every later INSERT
// without a token of its own (demo readings, a script's) would carry the flush's, and the second
// of them would be dropped as a duplicate of the first, silently.
test("a flush's deduplication token stays with its INSERT: later INSERTs without one all land", async () => {
  const { openTestClickhouse } = await import("./support/stores");
  const { queryRows } = await import("../clickhouse/client");
  const { migrateClickhouse } = await import("../clickhouse/migrate");
  const { encodeBatch, batchHash, insertReadings, insertBatches } = await import("../clickhouse/insert");
  const t = openTestClickhouse();
  const ch = t.clickhouse;
  try {
    await migrateClickhouse(ch);
    const sensorId = crypto.randomUUID();
    const sensors = new Map([["soil", { id: sensorId, metric: "soil_moisture", calibration: null }]]);
    const now = Date.now();
    const hash = batchHash("b-1");
    const encoded = encodeBatch(sensors, [0, 1, 2].map((i) => ({ sensor: "soil", ts: now - 60_000 + i, value: 40 + i })), hash);
    await insertReadings(ch, [encoded.payload], "test-log:1-1", "rowbinary");
    await insertBatches(ch, [{ deviceId: crypto.randomUUID(), batchHash: hash, rows: 3, receivedAt: now }], "test-log:1-1:batches");

    const [setting] = await queryRows<{ token: string }>(ch, "SELECT getSetting('insert_deduplication_token') AS token");
    expect(setting!.token).toBe("");
    for (const value of [7, 8]) {
      await ch.client.command({
        query: `INSERT INTO ${ch.database}.readings (sensor_id, ts, value, raw_value, batch) VALUES ({id:UUID}, now64(3), {v:Float64}, {v:Float64}, 0)`,
        query_params: { id: sensorId, v: value },
      });
    }
    const [count] = await queryRows<{ n: number | string }>(ch, `SELECT count() AS n FROM ${ch.database}.readings WHERE sensor_id = {id:UUID}`, { id: sensorId });
    expect(Number(count!.n)).toBe(5);
  } finally {
    await t.cleanup();
  }
}, 60_000);

/** A MergeTree table in the suite's database (created first); its qualified name. */
async function createTable(t: import("./support/stores").TestClickhouse, name: string, columns: string, orderBy: string): Promise<string> {
  const table = `${t.clickhouse.database}.${name}`;
  await t.clickhouse.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${t.clickhouse.database}` });
  await t.clickhouse.client.command({ query: `CREATE TABLE ${table} (${columns}) ENGINE = MergeTree ORDER BY ${orderBy}` });
  return table;
}

// A chDB connection runs one statement at a time, and chdb-node runs parameterized statements one
// at a time across connections: a dashboard's query used to wait for every INSERT and long query
// before it. Now a short query started while a long statement runs is answered before it.
async function shortQueryFinishesFirst(long: (t: import("./support/stores").TestClickhouse) => Promise<unknown>, setup?: (t: import("./support/stores").TestClickhouse) => Promise<void>) {
  const { openTestClickhouse } = await import("./support/stores");
  const { queryRows } = await import("../clickhouse/client");
  const t = openTestClickhouse();
  try {
    await setup?.(t);
    const finished: string[] = [];
    const running = long(t).then(() => finished.push("long"));
    await Bun.sleep(50);
    const [row] = await queryRows<{ x: number }>(t.clickhouse, "SELECT {x:UInt32} + 1 AS x", { x: 41 });
    finished.push("short");
    await running;
    expect(row!.x).toBe(42);
    expect(finished).toEqual(["short", "long"]);
  } finally {
    await t.cleanup();
  }
}

test("a short query is not held up by a long one running in the embedded engine", async () => {
  const { queryRows } = await import("../clickhouse/client");
  await shortQueryFinishesFirst((t) => queryRows(t.clickhouse, "SELECT sum(cityHash64(number)) AS h FROM numbers({n:UInt64})", { n: 400_000_000 }));
}, 60_000);

test("a query is answered while a long INSERT runs, and the INSERT lands whole", async () => {
  const { queryRows } = await import("../clickhouse/client");
  let table = "";
  await shortQueryFinishesFirst(
    async (t) => {
      await t.clickhouse.client.command({ query: `INSERT INTO ${table} SELECT number, cityHash64(number) FROM numbers({n:UInt64})`, query_params: { n: 30_000_000 } });
      const [count] = await queryRows<{ n: number }>(t.clickhouse, `SELECT count() AS n FROM ${table}`);
      expect(Number(count!.n)).toBe(30_000_000);
    },
    async (t) => {
      table = await createTable(t, "big", "n UInt64, h UInt64", "n");
    },
  );
}, 60_000);

test("parameters the pool cannot bind go to the engine as parameters", async () => {
  const { bindParameters } = await import("../clickhouse/chdb-pool");
  expect(bindParameters("SELECT {a:UInt8}", {})).toBeUndefined();
  expect(bindParameters("SELECT {a:UInt8}", { a: Number.NaN })).toBeUndefined();
  expect(bindParameters("SELECT {d:DateTime}", { d: new Date() })).toBeUndefined();
  expect(bindParameters("SELECT {a:Array(Float64)}, {t:DateTime64(3, 'UTC')}", { a: [1, 2.5], t: 1.5 })).toBe("SELECT _CAST([1, 2.5], 'Array(Float64)'), _CAST(1.5, 'DateTime64(3, \\'UTC\\')')");
});

// A site's 2,000 sensor ids as an array literal cost the engine's parser 8 ms per query; as one
// string the engine splits, almost nothing. The split must select exactly what the literal did,
// and whatever a split could change (a comma in an item, an empty item, a fraction, a negative
// unsigned) must stay a literal.
test("arrays of ids and integers travel as one string the engine splits, with the same answers", async () => {
  const { openTestClickhouse } = await import("./support/stores");
  const { queryRows } = await import("../clickhouse/client");
  const { bindParameters } = await import("../clickhouse/chdb-pool");
  expect(bindParameters("SELECT {ids:Array(UUID)}, {n:Array(Int64)}", { ids: ["a", "b"], n: [-1, 2n] })).toBe(
    "SELECT _CAST(splitByChar(',', 'a,b'), 'Array(UUID)'), _CAST(splitByChar(',', '-1,2'), 'Array(Int64)')",
  );
  for (const [type, value] of [["Array(String)", ["a", "b"]], ["Array(UUID)", ["a,b"]], ["Array(UUID)", [""]], ["Array(UUID)", []], ["Array(Int64)", [1.5]], ["Array(UInt8)", [-1]], ["Array(Float64)", [1, 2]]] as const) {
    expect(bindParameters(`SELECT {a:${type}}`, { a: value })).not.toContain("splitByChar");
  }
  const t = openTestClickhouse();
  try {
    const ch = t.clickhouse;
    const table = await createTable(t, "split_ids", "id UUID, n Int64", "id");
    const ids = Array.from({ length: 2000 }, () => crypto.randomUUID());
    await ch.client.insert({ table, values: ids.map((id, n) => ({ id, n: n - 1000 })), format: "JSONEachRow" });
    const wanted = ids.filter((_, i) => i % 3 === 0);
    const big = [2n ** 62n, -(2n ** 62n), 0n];
    const [row] = await queryRows<{ found: string; count: string; since: string[]; big: string[] }>(
      ch,
      `SELECT groupArray(toString(id)) AS found, count() AS count, {since:Array(Int64)} AS since, {big:Array(Int64)} AS big
       FROM ${table} WHERE id IN {ids:Array(UUID)} AND n >= {since:Array(Int64)}[1]`,
      { ids: wanted, since: [-1000, 5], big },
    );
    expect(Number(row!.count)).toBe(wanted.length);
    expect(new Set(row!.found)).toEqual(new Set(wanted));
    expect(row!.since.map(Number)).toEqual([-1000, 5]);
    expect(row!.big.map(BigInt)).toEqual(big);
  } finally {
    await t.cleanup();
  }
}, 60_000);
