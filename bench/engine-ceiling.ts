// The engine's own ceiling on this machine, measured in the same run as the benchmark: an
// INSERT … SELECT of `rows` generated rows into a fresh database with the same schema
// (readings, its rollup and latest-value views). No parsing, no network, no JavaScript.
//
//   bun bench/engine-ceiling.ts <chdb path> <rows>   → { rows, ms, rowsPerSecond }
import { openClickhouse } from "../clickhouse/client";
import { migrateClickhouse } from "../clickhouse/migrate";

const [path, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const ch = openClickhouse({ target: { embeddedPath: path! }, database: "bench_ceiling" });
await ch.client.command({ query: "DROP DATABASE IF EXISTS bench_ceiling SYNC" });
await migrateClickhouse(ch);
const sql = `INSERT INTO bench_ceiling.readings (sensor_id, ts, value, raw_value, batch)
  SELECT toUUID(concat('00000000-0000-0000-0001-', leftPad(toString(number % 384), 12, '0'))),
         now64(3) - toIntervalMillisecond(number), number % 100, number % 100,
         xxHash64(concat('b', toString(intDiv(number, 1000))))
  FROM numbers({rows:UInt64})`;
const started = performance.now();
await ch.client.command({ query: sql, query_params: { rows } });
const ms = performance.now() - started;
await ch.client.command({ query: "DROP DATABASE IF EXISTS bench_ceiling SYNC" });
await ch.close();
console.log(JSON.stringify({ rows, ms: Math.round(ms), rowsPerSecond: Math.round(rows / (ms / 1000)) }));
