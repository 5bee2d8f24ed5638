// `npm run bench:query`: the analytics query benchmark.
//
// Starts the server on fresh embedded stores, provisions a fleet through the typed client (devices
// of 10 sensors each, created by their first ingest batch), stops it, generates the readings
// inside ClickHouse (INSERT … SELECT FROM numbers(), so the rollup views fill as with ingest) plus
// rollup-only history beyond the raw TTL, and merges it. Then it restarts the server, starts the
// bare engine beside it on a copy of the data, and times each procedure through the typed client
// over HTTP alternately with the same ClickHouse query run bare (p50/p99 over repeated calls of
// each), prints our overhead (procedure ÷ engine) and writes bench/results/query.json.
//
// Defaults: 1,000 sensors × 90 days at a 1-minute cadence (≈ 130 M readings) and 630 more days of
// hourly rollups (two years in all). Smaller: `npm run bench:query -- --quick`, or BENCH_SENSORS,
// BENCH_DAYS, BENCH_CADENCE_SECONDS, BENCH_HISTORY_DAYS, BENCH_ITERATIONS.

import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppClient, type AppClient } from "../client";
import { latestSql } from "../clickhouse/analytics/latest";
import { readingsPerHourSql } from "../clickhouse/analytics/health";
import { sensorBucketsSql, sensorPointsSql, seriesSql } from "../clickhouse/analytics/series";
import type { Clickhouse } from "../clickhouse/client";
import { fleetWindow } from "../server/analytics/fleet";
import { planSeries } from "../server/analytics/plan";
import type { Bucket } from "../shared/schemas/analytics";
import { childEnv, freePort, spawnServer, waitForStatus } from "../test/support/process";
import type { LoadSpec, TimedCase } from "./query-engine";

const ROOT = path.resolve(import.meta.dir, "..");
const quick = process.argv.includes("--quick");
const SENSORS = Number(process.env.BENCH_SENSORS ?? (quick ? 100 : 1000));
const DAYS = Number(process.env.BENCH_DAYS ?? (quick ? 7 : 90));
const CADENCE = Number(process.env.BENCH_CADENCE_SECONDS ?? 60);
const HISTORY_DAYS = Number(process.env.BENCH_HISTORY_DAYS ?? (quick ? 30 : 630));
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? (quick ? 30 : 100));
const TIMEZONE = "Europe/Berlin";
const WARMUP_ROUNDS = 5;
const RAW_TTL_DAYS = DAYS + 2; // every generated day stays within the raw retention
const DAY = 86_400_000;
const KEYS: [string, string][] = [
  ["soil1", "soil_moisture"], ["soil2", "soil_moisture"], ["temp", "temperature"], ["temp2", "temperature"], ["hum", "humidity"],
  ["lux", "light"], ["battery", "battery"], ["ec", "ec"], ["ph", "ph"], ["level", "water_level"],
];

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function run(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code})`);
  return out.trim().split("\n").pop()!;
}

async function stop(server: { proc: { kill(signal: NodeJS.Signals): void; exited: Promise<number> } }) {
  server.proc.kill("SIGTERM");
  if ((await server.proc.exited) !== 0) throw new Error("server did not stop cleanly");
}

/**
 * The server for the timed phase. It logs as in production (a line per request), but to
 * /dev/null: following its logs, as spawnServer does, would put their parsing on this process's
 * event loop, between the calls being timed.
 */
async function startQuietServer(env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, "server/main.ts"], { cwd: ROOT, env: childEnv({ HOST: "127.0.0.1", ...env }), stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  const url = `http://127.0.0.1:${env.PORT}`;
  await waitForStatus(`${url}/readyz`, 200, 120_000);
  return { proc, url };
}

/** One procedure and the same ClickHouse query, bare. */
interface Case {
  name: string;
  target?: { p50Ms: number };
  call: (api: AppClient) => Promise<unknown>;
  engine?: TimedCase;
  iterations?: number;
}

/**
 * The engine alone, in its own process on a copy of the server's chDB directory (chDB binds a
 * directory to one process), timing one bare query per request. It stays up beside the server so
 * that bare and procedure calls can alternate: this machine's speed drifts within minutes, and
 * alternating puts both sides of every ratio under the same conditions.
 */
async function startEngine(chPath: string, casesFile: string) {
  const proc = Bun.spawn([process.execPath, "bench/query-engine.ts", "serve", chPath, casesFile], { cwd: ROOT, stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = (async function* () {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of proc.stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        yield buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
      }
    }
  })();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error("the engine process ended");
    return JSON.parse(value) as Record<string, unknown>;
  };
  await next(); // ready
  return {
    time: async (index: number) => {
      proc.stdin.write(`${index}\n`);
      proc.stdin.flush();
      return (await next()) as { ms: number; rows: number };
    },
    stop: async () => {
      proc.stdin.write("quit\n");
      proc.stdin.end();
      await proc.exited;
    },
  };
}

const p = (sorted: number[], q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "verdant-bench-query-"));
  const env = { DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: "info", DEMO_DATA: "false", READINGS_RAW_TTL_DAYS: String(RAW_TTL_DAYS) };
  const readings = SENSORS * DAYS * Math.round(86_400 / CADENCE);
  console.log(
    `machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; fleet: ${SENSORS} sensors × ${DAYS} days at ${CADENCE} s ` +
      `(${readings.toLocaleString("en")} readings) + ${HISTORY_DAYS} days of hourly rollups; ${ITERATIONS} calls per procedure`,
  );

  // 1. The fleet, through the API: devices of 10 sensors, each sensor created by its first reading.
  const server = await spawnServer(env);
  await waitForStatus(`${server.url}/readyz`, 200, 60_000);
  const account = await createAppClient({ url: server.url }).auth.register.mutate({
    email: "bench@example.com", password: "benchmark password", displayName: "Bench", timezone: TIMEZONE, client: "app",
  });
  const siteId = account.personalSiteId;
  let api = createAppClient({ url: server.url, token: account.token! });
  const deviceCount = Math.ceil(SENSORS / KEYS.length);
  for (let d = 0; d < deviceCount; d++) {
    const { token } = await api.devices.provision.mutate({ siteId, name: `bench-${d}` });
    const keys = KEYS.slice(0, Math.min(KEYS.length, SENSORS - d * KEYS.length));
    const response = await fetch(`${server.url}/v1/ingest`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ batchId: `warmup-${d}`, attempt: 1, readings: keys.map(([sensor, metric]) => ({ sensor, metric, ts: Date.now() - 3_600_000, value: 1 })) }),
    });
    if (response.status !== 200) throw new Error(`warm-up failed: ${response.status} ${await response.text()}`);
  }
  const sensors: { id: string; metric: string }[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await api.sensors.list.query({ siteId, limit: 100, ...(cursor ? { cursor } : {}) });
    sensors.push(...page.items.map((s) => ({ id: s.id, metric: s.metric })));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  await stop(server);
  console.log(`provisioned ${deviceCount} devices with ${sensors.length} sensors`);

  // 2. The readings, generated inside ClickHouse.
  const endMs = Math.floor(Date.now() / 60_000) * 60_000;
  const specFile = path.join(dataDir, "load.json");
  const spec: LoadSpec = { sensors, days: DAYS, cadenceSeconds: CADENCE, endMs, historyHours: HISTORY_DAYS * 24 };
  writeFileSync(specFile, JSON.stringify(spec));
  const load = JSON.parse(await run([process.execPath, "bench/query-engine.ts", "load", path.join(dataDir, "ch"), specFile]));
  console.log(`generated ${load.rows.toLocaleString("en")} readings in ${load.rawSeconds} s (${load.rowsPerSecond.toLocaleString("en")}/s through the views), ${load.historyRows.toLocaleString("en")} hourly history rows in ${load.historySeconds} s; merged (OPTIMIZE FINAL) in ${load.mergeSeconds} s; active parts ${JSON.stringify(load.activeParts)}`);

  // 3. The cases: each procedure's input, and the SQL it runs, built by the same code.
  const ch = { database: "verdant" } as Clickhouse;
  const now = new Date();
  const one = sensors[0]!.id;
  const ten = sensors.slice(0, 10).map((s) => s.id);
  const series = (name: string, ids: string[], days: number, bucket: Bucket | "auto", target?: number): Case => {
    const from = new Date(now.getTime() - days * DAY);
    const plan = planSeries({ from, to: now, bucket, maxPoints: 500, percentiles: false }, { timezone: TIMEZONE, now, rawRetentionDays: RAW_TTL_DAYS });
    const q = { sensorIds: ids, from: plan.from, to: plan.to, source: plan.source, bucket: plan.kind, timezone: TIMEZONE, percentiles: false };
    // The server asks for one sensor's buckets as JSON it sends on, for several sensors as columns.
    const engine: TimedCase = ids.length === 1 ? { name, ...sensorBucketsSql(ch, q), read: "JSONColumns" } : { name, ...seriesSql(ch, q), read: "columns" };
    return {
      name: `${name} (${plan.bucket} from ${plan.source})`,
      ...(target ? { target: { p50Ms: target } } : {}),
      call: (a) => a.analytics.series.query({ siteId, sensorIds: ids, from, to: now, bucket }),
      engine,
    };
  };
  const chartFrom = new Date(now.getTime() - 7 * DAY);
  const chart = sensorPointsSql(ch, { sensorIds: [one], from: chartFrom, to: now, source: "raw", points: 500 });
  const latest = latestSql(ch, sensors.map((s) => s.id));
  const fleet = readingsPerHourSql(ch, { sensorIds: sensors.map((s) => s.id), ...fleetWindow(now, 24) });
  const cases: Case[] = [
    series("series, 1 sensor, 1 day", [one], 1, "auto", 20),
    series("series, 1 sensor, 1 year hourly", [one], 365, "1h", 50),
    series("series, 1 sensor, 2 years daily", [one], Math.min(720, DAYS + HISTORY_DAYS - 1), "1d"),
    series("series, 10 sensors, 7 days", ten, 7, "auto"),
    {
      name: "chart, 1 sensor, 7 days raw → 500 points (LTTB)",
      call: (a) => a.analytics.chart.query({ siteId, sensorIds: [one], from: chartFrom, to: now, points: 500 }),
      engine: { name: "chart", ...chart, read: "JSONEachRow" },
    },
    {
      name: `latest values of the site (${sensors.length} sensors)`,
      target: { p50Ms: 20 },
      call: (a) => a.analytics.latest.query({ siteId }),
      engine: { name: "latest", ...latest, read: "columns" },
    },
    {
      name: "  the same, with each sensor's details (withSensors)",
      call: (a) => a.analytics.latest.query({ siteId, withSensors: true }),
      engine: { name: "latest", ...latest, read: "columns" },
    },
    { name: "fleet overview, 24 h", call: (a) => a.analytics.fleet.query({ siteId, hours: 24 }), engine: { name: "fleet", ...fleet, read: "rows" } },
    { name: "auth.me: the floor of any signed-in call (session, tRPC, HTTP)", call: (a) => a.auth.me.query() },
    { name: "device health (several queries, no single engine twin)", call: (a) => a.analytics.deviceHealth.query({ siteId }), iterations: Math.min(ITERATIONS, 10) },
  ];

  // 4. The engine alone (its own process, on a copy of the data), and the server on the original.
  const engineCases = cases.filter((c) => c.engine);
  const casesFile = path.join(dataDir, "cases.json");
  writeFileSync(casesFile, JSON.stringify(engineCases.map((c) => c.engine!)));
  cpSync(path.join(dataDir, "ch"), path.join(dataDir, "ch-engine"), { recursive: true });
  const engine = await startEngine(path.join(dataDir, "ch-engine"), casesFile);
  const timed = await startQuietServer(env);
  // One call at a time, as a script would: no batching tick (see createAppClient's `batch`).
  api = createAppClient({ url: timed.url, token: account.token!, batch: false });

  // 5. Warm-up: every query and procedure a few times before any is timed, so caches are warm
  // and the server's and this client's code paths compiled.
  for (let round = 0; round < WARMUP_ROUNDS; round++) {
    for (const c of cases) {
      await c.call(api);
      if (c.engine) await engine.time(engineCases.indexOf(c));
    }
  }

  // 6. Timed: bare query and procedure alternate, each first every other time.
  const results = [];
  console.log("\nprocedure                                              p50 ms   p99 ms | engine p50   p99 | overhead (p50) | target");
  for (const c of cases) {
    const n = c.iterations ?? ITERATIONS;
    const own: number[] = [];
    const bareTimes: number[] = [];
    let rows = 0;
    const procedureOnce = async () => {
      const started = performance.now();
      await c.call(api);
      own.push(performance.now() - started);
    };
    const engineOnce = async () => {
      const r = await engine.time(engineCases.indexOf(c));
      bareTimes.push(r.ms);
      rows = r.rows;
    };
    for (let i = 0; i < n; i++) {
      if (!c.engine) await procedureOnce();
      else if (i % 2 === 0) await engineOnce().then(procedureOnce);
      else await procedureOnce().then(engineOnce);
    }
    own.sort((x, y) => x - y);
    bareTimes.sort((x, y) => x - y);
    const procedure = { p50: p(own, 0.5), p99: p(own, 0.99) };
    const bare = c.engine ? { name: c.engine.name, rows, p50: p(bareTimes, 0.5), p99: p(bareTimes, 0.99) } : undefined;
    const overhead = bare ? round(procedure.p50 / bare.p50) : null;
    const targetMet = c.target ? procedure.p50 <= c.target.p50Ms : null;
    results.push({ name: c.name, procedure, engine: bare ?? null, overhead, target: c.target ?? null, targetMet });
    console.log(
      `${c.name.padEnd(54)} ${String(procedure.p50).padStart(7)} ${String(procedure.p99).padStart(8)} | ` +
        `${bare ? `${String(bare.p50).padStart(10)} ${String(bare.p99).padStart(5)}` : "         –     –"} | ` +
        `${overhead === null ? "–" : `${overhead}×`}`.padStart(14) +
        ` | ${c.target ? `≤ ${c.target.p50Ms} ms ${targetMet ? "met" : "NOT met"}` : ""}`,
    );
  }
  await stop(timed);
  await engine.stop();

  const result = {
    benchmark: "query",
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), cpu: os.cpus()[0]?.model ?? "unknown" },
    fleet: { sensors: sensors.length, devices: deviceCount, days: DAYS, cadenceSeconds: CADENCE, readings: load.rows, historyDays: HISTORY_DAYS, timezone: TIMEZONE },
    load,
    iterations: ITERATIONS,
    results,
  };
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/query.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log("\nwrote bench/results/query.json");
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
