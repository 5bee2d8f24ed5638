// `npm run bench:ingest`: the ingest benchmark.
//
// Starts the server on fresh embedded stores, provisions devices, drives POST /v1/ingest over
// real HTTP from a separate process with many simulated devices (batches of 100 and of 1,000
// readings), then stops the server and checks that ClickHouse holds exactly the acknowledged
// readings. In the same run it measures the engine's ceiling (INSERT … SELECT of as many rows
// into the same schema) and the JavaScript costs per batch (JSON parse, validation, encoding),
// prints everything as ratios, and writes bench/results/ingest.json.
//
// BENCH_SECONDS (default 15) sets each scenario's duration; BENCH_DEVICES (default 128) the fleet;
// BENCH_SCENARIOS the batch sizes and requests in flight; BENCH_PROFILE=1 profiles the server.
// A scenario ending in `:lp` sends the same readings as InfluxDB line protocol to /api/v2/write.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppClient } from "../client";
import { batchHash, encodeBatch, type SensorForRows } from "../clickhouse/insert";
import { lineProtocolBatch } from "../server/pipelines/ingest/line-protocol";
import { parseBatch } from "../server/pipelines/ingest/parse";
import { freePort, queryStoppedClickhouse, spawnServer, waitForStatus } from "../test/support/process";

const ROOT = path.resolve(import.meta.dir, "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 128);
// BENCH_SCENARIOS: "batchSize:requestsInFlight[:lp],…" (default "100:128,1000:128,1000:128:lp").
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? "100:128,1000:128,1000:128:lp").split(",").map((s) => {
  const [size, inFlight, kind] = s.split(":");
  const batchSize = Number(size);
  const concurrency = Number(inFlight);
  const format = kind === "lp" ? "lp" : "json";
  if (!batchSize || !concurrency || (kind !== undefined && kind !== "lp")) throw new Error(`BENCH_SCENARIOS: expected batchSize:inFlight[:lp], got ${s}`);
  return { batchSize, concurrency, format };
});
const FORMAT_LABELS: Record<string, string> = { json: "JSON, /v1/ingest", lp: "line protocol, /api/v2/write" };

interface LoadResult {
  batches: number;
  readings: number;
  accepted: number;
  duplicates: number;
  seconds: number;
  latenciesMs: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  statusCounts: Record<string, number>;
}

async function run(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err}`);
  return out.trim().split("\n").pop()!;
}

/** Median time of `fn` over `iterations`, in ms. */
function timeIt(iterations: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    fn();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function javascriptCosts() {
  const now = Date.now();
  const readings = Array.from({ length: 1000 }, (_, i) => ({ sensor: ["soil1", "temp", "hum"][i % 3]!, ts: now - 3600_000 + i, value: 20 + (i % 50) / 7 }));
  const body = JSON.stringify({ batchId: "bench-batch", readings });
  const sensors = new Map<string, SensorForRows>(
    ["soil1", "temp", "hum"].map((k) => [k, { id: crypto.randomUUID(), metric: "temperature", calibration: k === "soil1" ? { rawLow: 3000, valueLow: 0, rawHigh: 1000, valueHigh: 100 } : null }]),
  );
  const limits = { maxReadings: 10_000, maxClockSkewMs: 300_000, maxAgeMs: 89 * 86_400_000 };
  let parsed = parseBatch(JSON.parse(body), now, limits);
  const jsonMs = timeIt(200, () => JSON.parse(body));
  const validateMs = timeIt(200, () => {
    parsed = parseBatch(JSON.parse(body), now, limits);
  }) - jsonMs;
  if (!parsed.ok) throw new Error("benchmark batch did not validate");
  const batch = parsed.batch;
  const encodeMs = timeIt(200, () => encodeBatch(sensors, batch.readings, batchHash(batch.batchId)));
  // The same readings as line protocol: decoding, parsing, mapping and the batch id, in one step.
  const lineProtocol = new TextEncoder().encode(readings.map((r) => `${r.sensor} value=${r.value} ${r.ts}`).join("\n"));
  const lpOptions = { deviceId: "bench-device", precision: "ms" as const, now, limits };
  if (!lineProtocolBatch(lineProtocol, lpOptions).ok) throw new Error("benchmark line protocol did not parse");
  const lineProtocolMs = timeIt(200, () => lineProtocolBatch(lineProtocol, lpOptions));
  const perReading = (ms: number) => Math.round((ms * 1e6) / 1000) / 1000; // µs per reading
  return {
    perBatchOf1000Ms: { jsonParse: round(jsonMs), validate: round(validateMs), encodeRowBinary: round(encodeMs), lineProtocol: round(lineProtocolMs) },
    perReadingMicroseconds: {
      jsonParse: perReading(jsonMs),
      validate: perReading(validateMs),
      encodeRowBinary: perReading(encodeMs),
      lineProtocol: perReading(lineProtocolMs),
    },
    singleCoreReadingsPerSecond: Math.round(1000 / ((jsonMs + validateMs + encodeMs) / 1000)),
  };
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "verdant-bench-ingest-"));
  const port = await freePort();
  // BENCH_DATABASE_URL: app data in a PostgreSQL server instead of the embedded PGlite (readings
  // stay in chDB either way); the database must be empty.
  const env: Record<string, string> = { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: "info", DEMO_DATA: "false" };
  if (process.env.BENCH_DATABASE_URL) env.DATABASE_URL = process.env.BENCH_DATABASE_URL;
  console.log(`machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ${SECONDS} s per scenario, ${DEVICES} devices`);
  // BENCH_PROFILE=1: the server writes a CPU profile (markdown) to bench/results/ when it stops.
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${path.join(ROOT, "bench/results")}`, "--cpu-prof-name=ingest-server.cpuprofile"] : [];
  const server = await spawnServer(env, profile);
  await waitForStatus(`${server.url}/readyz`, 200, 60_000);

  // A fleet: one account, DEVICES devices, each warmed up once (its sensors exist before load).
  const account = await createAppClient({ url: server.url }).auth.register.mutate({
    email: "bench@example.com",
    password: "benchmark password",
    displayName: "Bench",
    client: "app",
  });
  const api = createAppClient({ url: server.url, token: account.token! });
  const tokens: string[] = [];
  for (let i = 0; i < DEVICES; i++) {
    tokens.push((await api.devices.provision.mutate({ siteId: account.personalSiteId, name: `bench-${i}` })).token);
  }
  let warmupReadings = 0;
  for (const [i, token] of tokens.entries()) {
    const readings = ["soil1", "soil2", "temp", "hum", "lux", "battery"].map((sensor) => ({ sensor, ts: Date.now() - 7200_000, value: 1 }));
    const response = await fetch(`${server.url}/v1/ingest`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ batchId: `warmup-${i}`, readings }),
    });
    if (response.status !== 200) throw new Error(`warm-up failed: ${response.status} ${await response.text()}`);
    warmupReadings += readings.length;
  }
  const tokensFile = path.join(dataDir, "tokens.json");
  writeFileSync(tokensFile, JSON.stringify(tokens));

  const scenarios: (LoadResult & { batchSize: number; concurrency: number; format: string; readingsPerSecond: number })[] = [];
  for (const s of SCENARIOS) {
    const result = JSON.parse(
      await run([process.execPath, "bench/ingest-load.ts", server.url, tokensFile, String(s.batchSize), String(s.concurrency), String(SECONDS), s.format]),
    ) as LoadResult;
    const readingsPerSecond = Math.round(result.readings / result.seconds);
    scenarios.push({ ...s, ...result, readingsPerSecond });
    // Line protocol is printed next to the JSON rate of the same batch size.
    const json = s.format === "lp" ? scenarios.find((o) => o.format === "json" && o.batchSize === s.batchSize) : undefined;
    console.log(
      `batches of ${s.batchSize} × ${s.concurrency} devices in flight (${FORMAT_LABELS[s.format]}): ${readingsPerSecond.toLocaleString("en")} acknowledged readings/s` +
        (json ? ` (JSON: ${json.readingsPerSecond.toLocaleString("en")}, ${round(readingsPerSecond / json.readingsPerSecond, 2)}×)` : "") +
        `, ` +
        `ack latency p50 ${result.latenciesMs.p50} ms, p99 ${result.latenciesMs.p99} ms, ${result.errors} retried answers ${JSON.stringify(result.statusCounts)}`,
    );
  }

  server.proc.kill("SIGTERM");
  if ((await server.proc.exited) !== 0) throw new Error("server did not stop cleanly");
  const totals = server.logs.find((l) => l.msg === "ingest totals")?.ingest as { flushes: number; rowsCommitted: number; insertMs: number; dedupCheckMs: number } | undefined;

  // None lost, none duplicated: ClickHouse holds exactly what was acknowledged.
  const acknowledged = warmupReadings + scenarios.reduce((n, s) => n + s.accepted, 0);
  if (scenarios.some((s) => s.duplicates > 0)) throw new Error("unique batches were answered as duplicates");
  const acknowledgedBatches = tokens.length + scenarios.reduce((n, s) => n + s.batches, 0);
  const [stored] = await queryStoppedClickhouse<{ rows: string; batches: string }>(
    dataDir,
    "SELECT count() AS rows, uniqExact(batch) AS batches FROM verdant.readings",
  );
  const verified = Number(stored!.rows) === acknowledged && Number(stored!.batches) === acknowledgedBatches;
  console.log(
    `stored ${Number(stored!.rows).toLocaleString("en")} rows in ${Number(stored!.batches).toLocaleString("en")} batches; acknowledged ${acknowledged.toLocaleString("en")} in ${acknowledgedBatches.toLocaleString("en")}: ${verified ? "exact" : "MISMATCH"}`,
  );

  const big = scenarios.find((s) => s.batchSize === 1000 && s.format === "json") ?? scenarios.find((s) => s.batchSize === 1000)!;
  const ceiling = JSON.parse(
    await run([process.execPath, "bench/engine-ceiling.ts", path.join(dataDir, "ch"), String(Math.max(1_000_000, Math.min(big.readings, 20_000_000)))]),
  ) as { rows: number; ms: number; rowsPerSecond: number };
  const js = javascriptCosts();
  console.log(`engine ceiling (INSERT … SELECT, same schema and views): ${ceiling.rowsPerSecond.toLocaleString("en")} rows/s`);
  for (const s of scenarios) console.log(`  batches of ${s.batchSize} (${FORMAT_LABELS[s.format]}): ${round((s.readingsPerSecond / ceiling.rowsPerSecond) * 100, 1)} % of the engine ceiling`);
  console.log(`JavaScript per reading (one core): parse ${js.perReadingMicroseconds.jsonParse} µs, validate ${js.perReadingMicroseconds.validate} µs, encode ${js.perReadingMicroseconds.encodeRowBinary} µs`);
  console.log(`  line protocol instead of JSON parse + validate: ${js.perReadingMicroseconds.lineProtocol} µs (decode, parse, map to readings, batch id)`);
  if (totals) {
    const flushes = totals.flushes || 1;
    console.log(
      `server: ${totals.flushes} group commits, ${Math.round(totals.rowsCommitted / flushes)} rows each on average; ` +
        `INSERT ${Math.round(totals.insertMs)} ms and duplicate checks ${Math.round(totals.dedupCheckMs)} ms in total`,
    );
  }

  const result = {
    benchmark: "ingest",
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), cpu: os.cpus()[0]?.model ?? "unknown" },
    secondsPerScenario: SECONDS,
    devices: DEVICES,
    scenarios,
    verification: { acknowledgedReadings: acknowledged, storedRows: Number(stored!.rows), acknowledgedBatches, storedBatches: Number(stored!.batches), exact: verified },
    engineCeiling: ceiling,
    ratioToCeiling: Object.fromEntries(scenarios.map((s) => [`batch${s.batchSize}${s.format === "lp" ? "-lp" : ""}`, round(s.readingsPerSecond / ceiling.rowsPerSecond, 4)])),
    javascript: js,
    serverTotals: totals ?? null,
  };
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/ingest.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log("wrote bench/results/ingest.json");
  rmSync(dataDir, { recursive: true, force: true });
  if (!verified) process.exit(1);
}

await main();
