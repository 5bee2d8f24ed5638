// `npm run bench:query`: Verdant's analytics beside VictoriaMetrics, on the same data, in one run.
//
// Both start fresh. One data set, loaded into both through their ingest endpoints by the same
// load generator (bench/ingest-load.ts: the same batches, 16 in flight): BENCH_QUERY_SENSORS soil
// moisture sensors (devices of 10) × BENCH_QUERY_DAYS days at one reading a minute (default 1,000 ×
// 30 = 43.2 M readings), as JSON to POST /v1/ingest and as line protocol to /write. Then each
// question a dashboard asks, through Verdant's typed client and VictoriaMetrics' Prometheus API:
//   latest value of every sensor; one sensor, 24 h in 5-minute buckets; one sensor, 30 days
//   hourly; the daily average of every sensor over 7 days in one call; the sensors whose 30-minute
//   average is below 25 in one call
// each timed BENCH_QUERY_ITERATIONS times (the two alternate, each first every other time), once
// on a quiet machine and once while ingest runs into the same target (BENCH_QUERY_INGEST_RATE
// readings/s from other devices). The answers are compared (same sensors, same number of values)
// before anything is timed. Prints p50/p99 and Verdant ÷ VictoriaMetrics, writes
// bench/results/query.json. See docs/benchmarks.md.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AppClient } from "../client";
import type { LoadResult, LoadSpec } from "./ingest-load";
import { memorySampler, mib, residentBytes, settle } from "./support/processes";
import { checkLayout, type FleetLayout } from "./support/readings";
import { runJson, startJson } from "./support/run";
import { compact, ms, pad, percentiles, ratio, round, type Percentiles } from "./support/stats";
import { listSensors, provisionDevices, registerAccount, startVerdant, type Verdant } from "./support/verdant";
import { startVictoria, type Victoria } from "./support/victoria";

const ROOT = path.resolve(import.meta.dir, "..");
const env = process.env;
const num = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0`);
  return value;
};
const SENSORS = num("BENCH_QUERY_SENSORS", 1000);
const DAYS = num("BENCH_QUERY_DAYS", 30);
const ITERATIONS = Math.max(1, num("BENCH_QUERY_ITERATIONS", 100));
const LOAD_IN_FLIGHT = num("BENCH_QUERY_LOAD_IN_FLIGHT", 16);
const INGEST_RATE = num("BENCH_QUERY_INGEST_RATE", 200_000);
const INGEST_DEVICES = num("BENCH_QUERY_INGEST_DEVICES", 200);
const SETTLE_SECONDS = num("BENCH_SETTLE_SECONDS", 120);
const WARMUP = 3;
const READINGS = SENSORS * DAYS * 1440;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const KEYS = Array.from({ length: 10 }, (_, i) => `soil${i + 1}`); // soil moisture, by the key
const METRIC = "soil_moisture_value"; // the peer's series: measurement soil_moisture, field value
const POINTS_PER_BATCH = 720; // 12 hours of a device's 10 sensors: 7,200 readings per batch
const LIVE_KEYS = ["temp", "hum", "lux", "battery", "ec", "ph", "level", "temp2", "co2", "probe"];
const NAMES = { victoria: "VictoriaMetrics", verdant: "Verdant" } as const;
type Target = keyof typeof NAMES;

/** One question, asked of both, with how to count the values in each answer. */
interface Case {
  name: string;
  target?: string;
  verdant: (api: AppClient) => Promise<number>;
  victoria: () => Promise<number>;
}

interface Timing {
  verdant: Percentiles;
  victoria: Percentiles;
  /** Verdant ÷ VictoriaMetrics. */
  ratio: { p50: number; p99: number };
}

async function main() {
  if (SENSORS < 10 || SENSORS % 10 !== 0) throw new Error("BENCH_QUERY_SENSORS must be a multiple of 10 (devices of 10 sensors)");
  if (!Number.isInteger(DAYS) || DAYS < 2) throw new Error("BENCH_QUERY_DAYS must be a whole number ≥ 2");
  const work = mkdtempSync(path.join(os.tmpdir(), "verdant-bench-query-"));
  console.log(
    `machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB (${os.cpus()[0]?.model ?? "unknown cpu"}); ` +
      `data: ${SENSORS.toLocaleString("en")} sensors × ${DAYS} days at 1 minute = ${READINGS.toLocaleString("en")} readings; ${ITERATIONS} calls per question`,
  );
  const vm = await startVictoria();
  let verdant: Verdant | undefined;
  try {
    verdant = await startVerdant({ READINGS_RAW_TTL_DAYS: String(Math.max(90, DAYS + 2)) });
    console.log(`${vm.version} on ${vm.url}; Verdant on ${verdant.url}`);
    const result = await benchmark(vm, verdant, work);
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(path.join(ROOT, "bench/results/query.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log("\nwrote bench/results/query.json");
  } finally {
    await vm.stop().catch(() => undefined);
    if (verdant) {
      await verdant.stop().catch(() => undefined);
      verdant.remove();
    }
    rmSync(work, { recursive: true, force: true });
  }
}

async function benchmark(vm: Victoria, verdant: Verdant, work: string) {
  const pids: Record<Target, number> = { victoria: vm.pid, verdant: verdant.pid };
  await settle(Object.values(pids), 30);
  const idle = { victoria: residentBytes(vm.pid), verdant: residentBytes(verdant.pid) };
  const memory = memorySampler(pids);

  // The fleet's site (UTC, so that days are the same days in both), and a second site for the
  // devices whose ingest runs beside the queries.
  const account = await registerAccount(verdant.url, "bench@example.com", "UTC");
  const devices = await provisionDevices(account.api, account.siteId, "q-", SENSORS / 10);
  const liveSite = await account.api.sites.create.mutate({ name: "live ingest", timezone: "UTC" });
  const liveDevices = await provisionDevices(account.api, liveSite.id, "live-", INGEST_DEVICES);

  // 1. The data set, through each one's ingest endpoint: the same batches, time-major (every
  // device's first 12 hours, then the next 12 …), as a fleet uploading its history would.
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const layout: FleetLayout = {
    devices: devices.map((d) => d.name),
    keys: KEYS,
    batchSize: KEYS.length * POINTS_PER_BATCH,
    startMs: end - DAYS * DAY,
    spanMs: POINTS_PER_BATCH * MINUTE,
    measurement: "soil_moisture",
  };
  checkLayout(layout);
  const batches = devices.length * ((DAYS * 1440) / POINTS_PER_BATCH);
  const loads = {} as Record<Target, LoadResult>;
  for (const target of ["victoria", "verdant"] as const) {
    loads[target] = await runJson<LoadResult>("bench/ingest-load.ts", {
      target,
      url: target === "verdant" ? verdant.url : vm.url,
      tokens: target === "verdant" ? devices.map((d) => d.token) : undefined,
      layout,
      concurrency: LOAD_IN_FLIGHT,
      seconds: 86_400,
      maxBatches: batches,
      rate: 0,
      runId: `load-${target}`,
    } satisfies LoadSpec, work);
    if (loads[target].readings !== READINGS) throw new Error(`${NAMES[target]} acknowledged ${loads[target].readings} of ${READINGS} readings`);
    console.log(`loaded into ${pad(NAMES[target], 16)} ${loads[target].seconds} s, ${compact(loads[target].readingsPerSecond)} readings/s (${LOAD_IN_FLIGHT} batches of ${layout.batchSize.toLocaleString("en")} in flight)`);
  }
  await vm.flush();
  // Queried once both are quiet again (their merges after the load done), at most SETTLE_SECONDS.
  const settled = await settle(Object.values(pids), SETTLE_SECONDS);
  console.log(`settled in ${settled.seconds} s${settled.quiet ? "" : " (still busy: timing anyway)"}`);
  const afterLoad = { victoria: residentBytes(vm.pid), verdant: residentBytes(verdant.pid) };

  // 2. The questions. Times relative to the data's end E (readings at whole minutes before it).
  const api = account.api;
  const siteId = account.siteId;
  const sensors = await listSensors(api, siteId);
  const nameOf = new Map(devices.map((d) => [d.id, d.name]));
  const labelOf = new Map(sensors.map((s) => [s.id, `${nameOf.get(s.deviceId)}/${s.key}`]));
  const one = sensors.find((s) => nameOf.get(s.deviceId) === devices[0]!.name && s.key === "soil1")!;
  const promql = async (kind: "query" | "query_range", params: Record<string, string | number>) => {
    const response = await fetch(`${vm.url}/api/v1/${kind}`, { method: "POST", body: new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])) });
    const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; values?: unknown[] }[] } };
    if (body.status !== "success") throw new Error(`VictoriaMetrics: ${body.error}`);
    return body.data.result;
  };
  const valuesOf = (result: { values?: unknown[] }[]) => result.reduce((n, r) => n + (r.values?.length ?? 1), 0);
  const s = (ms: number) => ms / 1000;
  const selector = `${METRIC}{device="${devices[0]!.name}",sensor="soil1"}`;
  const longDays = Math.min(30, DAYS);
  // Series end on a bucket boundary, so both answer the same number of buckets: Verdant's [t, t + 5 min)
  // and the peer's (t − 5 min, t] each hold five readings.
  const end5m = Math.floor(end / (5 * MINUTE)) * 5 * MINUTE;
  const endHour = Math.floor(end / HOUR) * HOUR;
  const dayStart = Math.floor(end / DAY) * DAY;
  const fullDays = Math.min(7, Math.floor((dayStart - layout.startMs) / DAY));
  const crossAt = end - 30_000; // between two readings: (t − 30 min, t] and [t − 30 min, t] hold the same 30
  const crossing = {
    verdant: async (a: AppClient) =>
      (await a.analytics.crossing.query({ siteId, metric: "soil_moisture", from: new Date(crossAt - 30 * MINUTE), to: new Date(crossAt), aggregate: "avg", comparison: "below", threshold: 25 })).values.sensorId,
    victoria: async () => (await promql("query", { query: `avg_over_time(${METRIC}[30m]) < 25`, time: s(crossAt) })).map((r) => `${r.metric.device}/${r.metric.sensor}`),
  };
  const cases: Case[] = [
    {
      name: `latest value of every sensor (${SENSORS.toLocaleString("en")})`,
      target: "≤ 1.0× while ingest runs",
      verdant: async (a) => (await a.analytics.latest.query({ siteId })).values.value.filter((v) => v !== null).length,
      victoria: async () => valuesOf(await promql("query", { query: METRIC, time: s(end) })),
    },
    {
      name: "one sensor, 24 h in 5-minute buckets",
      target: "p50 ≤ 3 ms while ingest runs",
      verdant: async (a) => (await a.analytics.series.query({ siteId, sensorIds: [one.id], from: new Date(end5m - DAY), to: new Date(end5m), bucket: "5m" })).series[0]!.buckets.t.length,
      victoria: async () => valuesOf(await promql("query_range", { query: `avg_over_time(${selector}[5m])`, start: s(end5m - DAY + 5 * MINUTE), end: s(end5m), step: "5m" })),
    },
    {
      name: `one sensor, ${longDays} days hourly`,
      verdant: async (a) => (await a.analytics.series.query({ siteId, sensorIds: [one.id], from: new Date(endHour - longDays * DAY), to: new Date(endHour), bucket: "1h" })).series[0]!.buckets.t.length,
      victoria: async () => valuesOf(await promql("query_range", { query: `avg_over_time(${selector}[1h])`, start: s(endHour - longDays * DAY + HOUR), end: s(endHour), step: "1h" })),
    },
    {
      name: `daily average of every sensor, ${fullDays} days, one call`,
      target: "≤ 1.0×",
      verdant: async (a) => {
        const res = await a.analytics.fleetSeries.query({ siteId, metric: "soil_moisture", from: new Date(dayStart - fullDays * DAY), to: new Date(dayStart), bucket: "1d" });
        return res.values.count.reduce((n, row) => n + row.filter((c) => c > 0).length, 0);
      },
      victoria: async () => valuesOf(await promql("query_range", { query: `avg_over_time(${METRIC}[1d])`, start: s(dayStart - (fullDays - 1) * DAY), end: s(dayStart), step: "1d" })),
    },
    {
      name: "sensors whose 30-minute average is below 25, one call",
      target: "≤ 1.0×",
      verdant: async (a) => (await crossing.verdant(a)).length,
      victoria: async () => (await crossing.victoria()).length,
    },
  ];

  // 3. Same questions, same answers: counted values per answer, and the crossing sensors themselves.
  const agreement: Record<string, { verdant: number; victoria: number; agree: boolean }> = {};
  for (const c of cases) {
    const [v, p] = [await c.verdant(api), await c.victoria()];
    agreement[c.name] = { verdant: v, victoria: p, agree: v === p };
  }
  const crossingSets = { verdant: (await crossing.verdant(api)).map((id) => labelOf.get(id)!).sort(), victoria: (await crossing.victoria()).sort() };
  const sameCrossing = JSON.stringify(crossingSets.verdant) === JSON.stringify(crossingSets.victoria);
  console.log("\nanswers (values per answer, Verdant / VictoriaMetrics):");
  for (const [name, a] of Object.entries(agreement)) console.log(`  ${pad(name, 60)} ${a.verdant} / ${a.victoria}${a.agree ? "" : "  (differ)"}`);
  console.log(`  the crossing sensors are ${sameCrossing ? "the same" : "NOT the same"} (${crossingSets.verdant.length} of ${SENSORS})`);

  // 4. Timed: quiet, then while ingest runs into the target being asked.
  for (let w = 0; w < WARMUP; w++) for (const c of cases) await Promise.all([c.verdant(api), c.victoria()]).catch(() => undefined);
  const quiet = await timeCases(cases, api, ["victoria", "verdant"]);
  const during = {} as Record<string, Partial<Record<Target, Percentiles>>>;
  const liveLoads = {} as Record<Target, LoadResult>;
  const liveSpan = Math.max(100, Math.round((INGEST_DEVICES * 1000 * 1000) / Math.max(1, INGEST_RATE)));
  for (const target of ["victoria", "verdant"] as const) {
    await settle(Object.values(pids), SETTLE_SECONDS);
    const live = startJson<LoadResult>("bench/ingest-load.ts", {
      target,
      url: target === "verdant" ? verdant.url : vm.url,
      tokens: target === "verdant" ? liveDevices.map((d) => d.token) : undefined,
      layout: { devices: liveDevices.map((d) => d.name), keys: LIVE_KEYS, batchSize: 1000, startMs: Math.floor(Date.now() / 1000) * 1000 - 5000, spanMs: liveSpan, measurement: "live" },
      concurrency: 16,
      seconds: 3600,
      rate: INGEST_RATE,
      runId: `live-${target}`,
    } satisfies LoadSpec, work);
    await Bun.sleep(3000); // under way (and, for Verdant, the live devices' sensors created)
    const timed = await timeCases(cases, api, [target]);
    live.stop();
    liveLoads[target] = await live.result;
    for (const [name, t] of Object.entries(timed)) (during[name] ??= {})[target] = t[target];
  }
  const peaks = memory.stop();

  const results = cases.map((c) => {
    const q = quiet[c.name]!;
    const d = during[c.name]!;
    const timing = (v: Percentiles, p: Percentiles): Timing => ({ verdant: v, victoria: p, ratio: { p50: round(v.p50 / Math.max(1e-9, p.p50)), p99: round(v.p99 / Math.max(1e-9, p.p99)) } });
    return { name: c.name, target: c.target ?? null, quiet: timing(q.verdant!, q.victoria!), whileIngesting: timing(d.verdant!, d.victoria!), answers: agreement[c.name] };
  });

  const pp = (p: Percentiles) => `${ms(p.p50)} / ${ms(p.p99)}`;
  for (const phase of ["quiet", "whileIngesting"] as const) {
    console.log(
      `\nqueries ${phase === "quiet" ? "on a quiet machine" : `while ${compact(INGEST_RATE)} readings/s go into the same target`} ` +
        `(${vm.version} as the peer; p50 / p99 over ${ITERATIONS} calls; Verdant through the typed client)`,
    );
    console.log(`${pad("question", 60)}${pad("VictoriaMetrics", 22)}${pad("Verdant", 22)}${pad("Verdant ÷ peer", 18)}${phase === "whileIngesting" ? "target" : ""}`);
    for (const r of results) {
      const t = r[phase];
      console.log(
        `${pad(r.name, 60)}${pad(pp(t.victoria), 22)}${pad(pp(t.verdant), 22)}${pad(`${ratio(t.ratio.p50)} / ${ratio(t.ratio.p99)}`, 18)}` +
          `${phase === "whileIngesting" && r.target ? `${r.target}: ${met(r) ? "met" : "NOT met"}` : ""}`,
      );
    }
  }
  console.log(`ingest beside the queries: ${(["victoria", "verdant"] as const).map((t) => `${NAMES[t]} ${compact(liveLoads[t].readingsPerSecond)} readings/s (p99 ${ms(liveLoads[t].latenciesMs.p99)})`).join("; ")}`);
  console.log(
    `resident memory: VictoriaMetrics idle ${mib(idle.victoria)} MiB, after the load ${mib(afterLoad.victoria)} MiB, peak ${mib(peaks.victoria!)} MiB; ` +
      `Verdant idle ${mib(idle.verdant)} MiB, after the load ${mib(afterLoad.verdant)} MiB, peak ${mib(peaks.verdant!)} MiB`,
  );

  return {
    benchmark: "query",
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), cpu: os.cpus()[0]?.model ?? "unknown" },
    peer: vm.version,
    data: { sensors: SENSORS, days: DAYS, readings: READINGS, cadenceSeconds: 60, end: new Date(end).toISOString(), batchSize: layout.batchSize, loadInFlight: LOAD_IN_FLIGHT },
    load: loads,
    settled,
    iterations: ITERATIONS,
    results,
    crossing: { same: sameCrossing, verdant: crossingSets.verdant, victoria: crossingSets.victoria },
    ingestBesideQueries: { rate: INGEST_RATE, devices: INGEST_DEVICES, victoria: liveLoads.victoria, verdant: liveLoads.verdant },
    memoryBytes: { victoria: { idle: idle.victoria, afterLoad: afterLoad.victoria, peak: peaks.victoria }, verdant: { idle: idle.verdant, afterLoad: afterLoad.verdant, peak: peaks.verdant } },
  };
}

function met(r: { name: string; target: string | null; whileIngesting: Timing; quiet: Timing }): boolean {
  if (r.target?.startsWith("p50 ≤ 3 ms")) return r.whileIngesting.verdant.p50 <= 3;
  if (r.target?.includes("while ingest")) return r.whileIngesting.ratio.p50 <= 1;
  return r.quiet.ratio.p50 <= 1 && r.whileIngesting.ratio.p50 <= 1;
}

/**
 * ITERATIONS calls of every case against the given targets. With both, the two alternate call by
 * call, each first every other time: this machine's speed drifts within minutes, and alternating
 * puts both sides of each ratio under the same conditions.
 */
async function timeCases(cases: Case[], api: AppClient, targets: Target[]) {
  const out: Record<string, Partial<Record<Target, Percentiles>>> = {};
  for (const c of cases) {
    const times: Record<Target, number[]> = { victoria: [], verdant: [] };
    const once = async (target: Target) => {
      const started = performance.now();
      await (target === "verdant" ? c.verdant(api) : c.victoria());
      times[target].push(performance.now() - started);
    };
    for (let i = 0; i < ITERATIONS; i++) {
      const order = i % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) await once(target);
    }
    out[c.name] = Object.fromEntries(targets.map((t) => [t, percentiles(times[t])]));
  }
  return out;
}

await main();
