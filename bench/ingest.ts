// `npm run bench:ingest`: Verdant's ingest beside VictoriaMetrics, in one run on one machine.
//
// Both start fresh (Verdant: `bun server/main.ts` on embedded stores in a temporary DATA_DIR;
// VictoriaMetrics: the Debian package, installed when missing, on a temporary -storageDataPath).
// One load generator (bench/ingest-load.ts, its own process) sends both the same readings in the
// same batches with the same number in flight: JSON batches to POST /v1/ingest as a plain client
// sends them (no `attempt`, sensors created by their first batch inside the timed run), line
// protocol to VictoriaMetrics' /write. Modes:
//   scenarios  1, 16 and 128 batches in flight (BENCH_IN_FLIGHT), each BENCH_SECONDS, both targets;
//              then 16 and 128 with Verdant reading line protocol (BENCH_LINE_PROTOCOL_IN_FLIGHT)
//              in turn (the order alternates), BENCH_REPEATS times: readings/s and ack p50/p90/p99/
//              max, each Verdant figure as a ratio to VictoriaMetrics' in the same run;
//   sustained  BENCH_SUSTAINED_MINUTES at BENCH_SUSTAINED_RATE readings/s (0: as fast as acked),
//              with rate and p99 per 30 s window;
//   mixed      ingest at BENCH_MIXED_RATE while dashboard users (bench/dashboard-load.ts) poll the
//              latest values of a site of 2,000 sensors and load its charts: latency per query kind.
// Then: VictoriaMetrics' stored samples (after a flush); Verdant stopped cleanly and its ClickHouse
// counted afresh: stored must equal acknowledged, exactly, or the run fails; the engine's ceiling
// (INSERT … SELECT of as many rows into the same schema); resident memory of both (idle, peak, and
// Verdant's after start-up with the demo data). Writes bench/results/ingest.json. See docs/benchmarks.md.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DashboardResult, DashboardSpec } from "./dashboard-load";
import type { LoadResult, LoadSpec } from "./ingest-load";
import { anonymousBytes, memorySampler, mib, peakResidentBytes, residentBytes, settle } from "./support/processes";
import { checkLayout, pointsPerSensor, type FleetLayout } from "./support/readings";
import { runCommand, runJson, startJson } from "./support/run";
import { compact, ms, pad, ratio, round, spreadOf, withSpread, type Spread } from "./support/stats";
import { listSensors, provisionDevices, registerAccount, startVerdant, storedReadings, type Verdant } from "./support/verdant";
import { seriesCount, startVictoria, storedSamples, type Victoria } from "./support/victoria";

const ROOT = path.resolve(import.meta.dir, "..");
const env = process.env;
const num = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0`);
  return value;
};
const SECONDS = num("BENCH_SECONDS", 10);
const DEVICES = num("BENCH_DEVICES", 200);
const SENSORS_PER_DEVICE = num("BENCH_SENSORS_PER_DEVICE", 10);
const BATCH = num("BENCH_BATCH", 1000);
const IN_FLIGHT = (env.BENCH_IN_FLIGHT ?? "1,16,128").split(",").filter(Boolean).map(Number);
const REPEATS = Math.max(1, num("BENCH_REPEATS", 1));
// The same batches as line protocol to Verdant's InfluxDB endpoint, at these numbers in flight.
const LINE_PROTOCOL_IN_FLIGHT = (env.BENCH_LINE_PROTOCOL_IN_FLIGHT ?? "16,128").split(",").filter(Boolean).map(Number);
const ATTEMPT = env.BENCH_ATTEMPT === "1";
const SUSTAINED_MINUTES = num("BENCH_SUSTAINED_MINUTES", 0);
const SUSTAINED_RATE = num("BENCH_SUSTAINED_RATE", 1_000_000);
const SUSTAINED_IN_FLIGHT = num("BENCH_SUSTAINED_IN_FLIGHT", 128);
const MIXED_SECONDS = num("BENCH_MIXED_SECONDS", SECONDS);
const MIXED_RATE = num("BENCH_MIXED_RATE", 200_000);
const MIXED_IN_FLIGHT = num("BENCH_MIXED_IN_FLIGHT", 16);
const MIXED_POLLERS = num("BENCH_MIXED_POLLERS", 500);
const MIXED_POLL_SECONDS = num("BENCH_MIXED_POLL_SECONDS", 5);
const MIXED_CHARTS = num("BENCH_MIXED_CHARTS_PER_SECOND", 100);
const MIXED_DASH_DEVICES = Math.max(1, num("BENCH_MIXED_DASH_DEVICES", 200));
const MIXED_DASH_CADENCE = Math.max(1, num("BENCH_MIXED_DASH_CADENCE_SECONDS", 10));
const MIXED_HISTORY_HOURS = Math.max(1, Math.round(num("BENCH_MIXED_HISTORY_HOURS", 24)));
const SETTLE_SECONDS = num("BENCH_SETTLE_SECONDS", 30);
/** An upper bound on any target's rate, to place the closed-loop runs' readings in the past. */
const RATE_BOUND = num("BENCH_RATE_BOUND", 5_000_000);

const KEYS = ["soil1", "soil2", "temp", "temp2", "hum", "lux", "battery", "ec", "ph", "level"];
const keys = Array.from({ length: SENSORS_PER_DEVICE }, (_, i) => KEYS[i] ?? `probe${i}`);
const NAMES = { victoria: "VictoriaMetrics", verdant: "Verdant" } as const;
type Target = keyof typeof NAMES;
const SPAN_MS = 1000; // a closed-loop batch covers one second of its device

interface Phase {
  mode: "scenario" | "line-protocol" | "sustained" | "mixed" | "mixed-history" | "mixed-dashboard-site" | "registration";
  inFlight: number;
  repeat: number;
  load: Record<Target, LoadResult>;
  dashboards?: Record<Target, DashboardResult>;
  settled: Record<Target, { seconds: number; quiet: boolean }>;
}

function targetsInOrder(turn: number): Target[] {
  return turn % 2 === 0 ? ["victoria", "verdant"] : ["verdant", "victoria"];
}

async function main() {
  if (BATCH < 1 || DEVICES < 1 || SENSORS_PER_DEVICE < 1) throw new Error("BENCH_BATCH, BENCH_DEVICES and BENCH_SENSORS_PER_DEVICE must be ≥ 1");
  const work = mkdtempSync(path.join(os.tmpdir(), "verdant-bench-ingest-"));
  console.log(
    `machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB (${os.cpus()[0]?.model ?? "unknown cpu"}); ` +
      `${BATCH.toLocaleString("en")}-reading batches, ${DEVICES} devices × ${SENSORS_PER_DEVICE} sensors, ${SECONDS} s per scenario, ${REPEATS} run(s)` +
      `${ATTEMPT ? ', batches declare "attempt"' : ", plain batches (no attempt)"}`,
  );

  const vm = await startVictoria();
  const verdantEnv: Record<string, string> = {};
  if (env.BENCH_DATABASE_URL) verdantEnv.DATABASE_URL = env.BENCH_DATABASE_URL;
  const profile = env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${path.join(ROOT, "bench/results")}`, "--cpu-prof-name=ingest-server.cpuprofile"] : [];
  let verdant: Verdant | undefined;
  try {
    verdant = await startVerdant(verdantEnv, profile);
    console.log(`${vm.version} on ${vm.url}; Verdant on ${verdant.url}`);
    const result = await benchmark(vm, verdant, work);
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(path.join(ROOT, "bench/results/ingest.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log("\nwrote bench/results/ingest.json");
    if (!result.verification.verdant.exact) process.exitCode = 1;
  } finally {
    await vm.stop().catch(() => undefined);
    if (verdant) {
      await verdant.stop().catch(() => undefined); // already stopped after a normal run
      verdant.remove();
    }
    rmSync(work, { recursive: true, force: true });
  }
}

async function benchmark(vm: Victoria, verdant: Verdant, work: string) {
  const pids: Record<Target, number> = { victoria: vm.pid, verdant: verdant.pid };
  const idle: Record<Target, number> = { victoria: 0, verdant: 0 };
  await settle(Object.values(pids), SETTLE_SECONDS);
  idle.victoria = residentBytes(vm.pid);
  idle.verdant = residentBytes(verdant.pid);
  const idleAnonymous = { victoria: anonymousBytes(vm.pid), verdant: anonymousBytes(verdant.pid) };
  const memory = memorySampler(pids);

  // The fleet: an account and its devices, through the typed client, before any timing. Their
  // sensors do not exist yet: each device's first batch creates them, inside the first run.
  const account = await registerAccount(verdant.url, "bench@example.com");
  const devices = await provisionDevices(account.api, account.siteId, "bench-", DEVICES);
  const tokens = devices.map((d) => d.token);
  const layoutAt = (startMs: number, spanMs = SPAN_MS): FleetLayout => {
    const layout = { devices: devices.map((d) => d.name), keys, batchSize: BATCH, startMs, spanMs, measurement: "bench" };
    checkLayout(layout);
    return layout;
  };

  // Closed-loop runs send readings faster than real time: place them in the past, far enough back
  // that even RATE_BOUND readings/s for every planned second stays behind the present.
  const plannedSeconds = (IN_FLIGHT.length + LINE_PROTOCOL_IN_FLIGHT.length) * SECONDS * REPEATS + SUSTAINED_MINUTES * 60;
  const slotsPerSecond = RATE_BOUND / BATCH / DEVICES;
  const pastMs = Math.ceil(plannedSeconds * slotsPerSecond) * SPAN_MS + 600_000;
  if (pastMs > 60 * 86_400_000) throw new Error(`the planned runs would need readings ${Math.round(pastMs / 86_400_000)} days old: shorten them or lower BENCH_RATE_BOUND`);
  const regionStart = Math.floor((Date.now() - pastMs) / 1000) * 1000;
  let slotCursor = 0;

  const phases: Phase[] = [];
  /** The generator against one target; Verdant's devices are the fleet's unless others are named. */
  const load = (target: Target, spec: Omit<LoadSpec, "target" | "url" | "tokens" | "runId">, runId: string, deviceTokens = tokens) =>
    startJson<LoadResult>("bench/ingest-load.ts", {
      ...spec,
      target,
      url: target === "verdant" ? verdant.url : vm.url,
      tokens: target === "verdant" ? deviceTokens : undefined,
      runId,
      attempt: ATTEMPT,
    } satisfies LoadSpec, work);

  /** Both targets, one after the other, with the same batches. */
  async function phase(mode: Phase["mode"], inFlight: number, repeat: number, turn: number, extra: Partial<LoadSpec> = {}) {
    const layout = layoutAt(regionStart + slotCursor * SPAN_MS);
    const results = {} as Record<Target, LoadResult>;
    const settled = {} as Phase["settled"];
    for (const target of targetsInOrder(turn)) {
      settled[target] = await settle(Object.values(pids), SETTLE_SECONDS);
      results[target] = await load(target, { layout, concurrency: inFlight, seconds: SECONDS, rate: 0, ...extra }, `${mode}-${inFlight}-${repeat}-${target}`).result;
      checkLoad(target, results[target]);
    }
    slotCursor += Math.ceil(Math.max(results.victoria.batchesTaken, results.verdant.batchesTaken) / DEVICES);
    if (regionStart + slotCursor * SPAN_MS > Date.now()) throw new Error("readings reached the present: raise BENCH_RATE_BOUND");
    const p: Phase = { mode, inFlight, repeat, load: results, settled };
    phases.push(p);
    return p;
  }

  // 1. The scenarios.
  let turn = 0;
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const inFlight of IN_FLIGHT) {
      const p = await phase("scenario", inFlight, repeat, turn++);
      console.log(`  run ${repeat + 1}, ${inFlight} in flight: ${(["victoria", "verdant"] as const).map((t) => `${NAMES[t]} ${compact(p.load[t].readingsPerSecond)}/s, p99 ${ms(p.load[t].latenciesMs.p99)}`).join("; ")}`);
    }
  }
  // The same scenarios with Verdant reading line protocol (its /write, as Telegraf sends it); the
  // peer's side is line protocol anyway. Each device's first line protocol batch creates its
  // sensors (other keys than JSON's: `soil1.bench` for `bench,…,sensor=soil1 value=…`).
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const inFlight of LINE_PROTOCOL_IN_FLIGHT) {
      const p = await phase("line-protocol", inFlight, repeat, turn++, { encoding: "lp" });
      console.log(`  run ${repeat + 1}, ${inFlight} in flight, line protocol: ${(["victoria", "verdant"] as const).map((t) => `${NAMES[t]} ${compact(p.load[t].readingsPerSecond)}/s, p99 ${ms(p.load[t].latenciesMs.p99)}`).join("; ")}`);
    }
  }
  if (phases.length === 0) {
    // No scenario ran: the sensors are created now, untimed, so later modes find them.
    await phase("registration", 16, 0, 0, { maxBatches: DEVICES, seconds: 600 });
  }

  // 2. Sustained.
  if (SUSTAINED_MINUTES > 0) {
    console.log(`sustained: ${SUSTAINED_MINUTES} min per target at ${SUSTAINED_RATE ? `${compact(SUSTAINED_RATE)} readings/s` : "the acknowledged rate"}, ${SUSTAINED_IN_FLIGHT} in flight`);
    await phase("sustained", SUSTAINED_IN_FLIGHT, 0, turn++, { seconds: SUSTAINED_MINUTES * 60, rate: SUSTAINED_RATE, windowSeconds: 30 });
  }

  // 3. Mixed: dashboard users watching a site of MIXED_DASH_DEVICES devices × 10 sensors that
  // report every MIXED_DASH_CADENCE seconds (with MIXED_HISTORY_HOURS of history at one reading a
  // minute, loaded untimed, so a 24-hour chart has something to show), while the fleet ingests at
  // MIXED_RATE. Everything in real time: the dashboards ask about the present.
  let mixedEnd = 0;
  let dashStart = Number.POSITIVE_INFINITY;
  if (MIXED_SECONDS > 0) {
    const dashSite = await account.api.sites.create.mutate({ name: "dashboards", timezone: "UTC" });
    const dashDevices = await provisionDevices(account.api, dashSite.id, "dash-", MIXED_DASH_DEVICES);
    const dashTokens = dashDevices.map((d) => d.token);
    const dashLayout = (startMs: number, batchSize: number, spanMs: number): FleetLayout => {
      const layout = { devices: dashDevices.map((d) => d.name), keys: KEYS, batchSize, startMs, spanMs, measurement: "dash" };
      checkLayout(layout);
      return layout;
    };
    const historyEnd = Math.floor(Date.now() / 60_000) * 60_000;
    dashStart = historyEnd - MIXED_HISTORY_HOURS * 3_600_000;
    const history = {} as Record<Target, LoadResult>;
    for (const target of ["victoria", "verdant"] as const) {
      // An hour of a device's 10 sensors per batch; the devices' first batches create their sensors.
      const spec = { layout: dashLayout(dashStart, KEYS.length * 60, 3_600_000), concurrency: 16, seconds: 3600, rate: 0, maxBatches: MIXED_DASH_DEVICES * MIXED_HISTORY_HOURS };
      history[target] = await load(target, spec, `history-${target}`, dashTokens).result;
      checkLoad(target, history[target]);
    }
    phases.push({ mode: "mixed-history", inFlight: 16, repeat: 0, load: history, settled: { victoria: { seconds: 0, quiet: true }, verdant: { seconds: 0, quiet: true } } });
    const dashSensors = await listSensors(account.api, dashSite.id);
    const nameOf = new Map(dashDevices.map((d) => [d.id, d.name]));
    const chartSensors = dashSensors.map((s) => ({ id: s.id, device: nameOf.get(s.deviceId)!, key: s.key }));

    const bulkSpan = Math.max(pointsPerSensor({ batchSize: BATCH, keys }), Math.round((DEVICES * BATCH * 1000) / MIXED_RATE));
    const dashRate = (MIXED_DASH_DEVICES * KEYS.length) / MIXED_DASH_CADENCE;
    const bulk = {} as Record<Target, LoadResult>;
    const dash = {} as Record<Target, LoadResult>;
    const dashboards = {} as Record<Target, DashboardResult>;
    const settled = {} as Phase["settled"];
    for (const target of targetsInOrder(turn++)) {
      settled[target] = await settle(Object.values(pids), SETTLE_SECONDS);
      const now = Math.floor(Date.now() / 1000) * 1000;
      const ingest = load(target, { layout: layoutAt(now - 1000, bulkSpan), concurrency: MIXED_IN_FLIGHT, seconds: MIXED_SECONDS, rate: MIXED_RATE }, `mixed-${target}`);
      // One reading per sensor per batch, each device every MIXED_DASH_CADENCE seconds.
      const dashIngest = load(
        target,
        { layout: dashLayout(Math.max(historyEnd, now - 1000), KEYS.length, MIXED_DASH_CADENCE * 1000), concurrency: 16, seconds: MIXED_SECONDS, rate: dashRate },
        `dash-${target}`,
        dashTokens,
      );
      const users = startJson<DashboardResult>("bench/dashboard-load.ts", {
        target,
        url: target === "verdant" ? verdant.url : vm.url,
        token: account.token,
        siteId: dashSite.id,
        pollers: MIXED_POLLERS,
        pollSeconds: MIXED_POLL_SECONDS,
        chartsPerSecond: MIXED_CHARTS,
        seconds: MIXED_SECONDS,
        sensors: chartSensors,
        measurement: "dash",
      } satisfies DashboardSpec, work);
      [bulk[target], dash[target], dashboards[target]] = await Promise.all([ingest.result, dashIngest.result, users.result]);
      checkLoad(target, bulk[target]);
      checkLoad(target, dash[target]);
      mixedEnd = Math.max(mixedEnd, bulk[target].dataEndMs, dash[target].dataEndMs);
    }
    phases.push({ mode: "mixed", inFlight: MIXED_IN_FLIGHT, repeat: 0, load: bulk, dashboards, settled });
    phases.push({ mode: "mixed-dashboard-site", inFlight: 16, repeat: 0, load: dash, settled });
  }

  const peaks = memory.stop();
  const hwm = { victoria: peakResidentBytes(vm.pid), verdant: peakResidentBytes(verdant.pid) };

  // 4. What each holds. VictoriaMetrics acknowledges before its data is on disk; counted after a flush.
  const acknowledged = (target: Target) => phases.reduce((n, p) => n + p.load[target].readings, 0);
  const dataStart = Math.min(regionStart, dashStart);
  const dataEnd = Math.max(regionStart + slotCursor * SPAN_MS, mixedEnd) + 1;
  const everything = '{__name__=~"bench_value|dash_value"}';
  const vmStored = await storedSamples(vm, everything, dataStart, dataEnd, 6 * 3_600_000);
  const vmSeries = await seriesCount(vm, everything, dataStart, dataEnd);
  await vm.stop();

  // Verdant: stopped as a service manager stops it, then ClickHouse opened afresh and counted.
  await verdant.stop();
  const totalsLine = verdant.logs().find((l) => l.msg === "ingest totals");
  const totals = totalsLine?.ingest ?? null;
  /** Charts answered from the server's copy in memory (clickhouse/mirror): how many sensors' buckets came from it, how many were loaded. */
  const charts = (totalsLine?.memoryCopies as { series?: { asked: number; fromMemory: number; loads: number; loaded: number; kept: number; notKept: number } } | undefined)?.series ?? null;
  const stored = await storedReadings(verdant.dataDir);
  const verdantAcked = phases.reduce((n, p) => n + p.load.verdant.accepted, 0);
  const verdantBatches = phases.reduce((n, p) => n + p.load.verdant.batches, 0);
  const exact = stored.rows === verdantAcked && (stored.batches === null || stored.batches === verdantBatches);

  // 5. The engine's ceiling on the same machine, same schema, as many rows as the biggest run.
  const biggest = Math.max(...phases.map((p) => p.load.verdant.readings));
  const ceiling = JSON.parse(await runCommand([process.execPath, "bench/engine-ceiling.ts", path.join(verdant.dataDir, "ch"), String(Math.max(1_000_000, Math.min(biggest, 20_000_000)))])) as {
    rows: number;
    ms: number;
    rowsPerSecond: number;
  };
  const javascript = await runCommand([process.execPath, "bench/ingest-js-costs.ts"])
    .then((line) => JSON.parse(line) as Record<string, unknown>)
    .catch((error: Error) => ({ unavailable: error.message }));

  // 6. Verdant at rest after start-up with the demo data (its own fresh directory).
  const demo = await startVerdant({ DEMO_DATA: "true" });
  await settle([demo.pid], 60);
  const demoResident = residentBytes(demo.pid);
  const demoAnonymous = anonymousBytes(demo.pid);
  await demo.stop();
  demo.remove();

  const report = summarize(phases);
  printReport(report, vm);
  if (charts && charts.asked > 0) {
    console.log(
      `charts from Verdant's copy in memory: ${charts.fromMemory.toLocaleString("en")} of ${charts.asked.toLocaleString("en")} sensor series; ${charts.loaded.toLocaleString("en")} loaded in ${charts.loads.toLocaleString("en")} queries (${charts.kept.toLocaleString("en")} kept, ${charts.notKept.toLocaleString("en")} not: a flush overlapped the load)`,
    );
  }
  console.log(`\nstored: VictoriaMetrics ${vmStored.toLocaleString("en")} samples in ${vmSeries.toLocaleString("en")} series for ${acknowledged("victoria").toLocaleString("en")} acknowledged readings (${vmStored === acknowledged("victoria") ? "all" : "NOT all"})`);
  console.log(
    `        Verdant ${stored.rows.toLocaleString("en")} rows${stored.batches === null ? "" : ` in ${stored.batches.toLocaleString("en")} batches`}, ` +
      `acknowledged ${verdantAcked.toLocaleString("en")} in ${verdantBatches.toLocaleString("en")}: ${exact ? "exact" : "MISMATCH"} (counted after a clean shutdown, ClickHouse opened afresh)`,
  );
  console.log(`engine ceiling (INSERT … SELECT of ${ceiling.rows.toLocaleString("en")} rows, same schema and views): ${compact(ceiling.rowsPerSecond)} rows/s`);
  for (const s of report.scenarios) console.log(`  ${pad(`${s.inFlight} in flight:`, 14)} Verdant at ${round((s.verdant.readingsPerSecond.median / ceiling.rowsPerSecond) * 100, 1)} % of it`);
  if ("perReadingMicroseconds" in javascript) console.log(`JavaScript per reading (one core): ${JSON.stringify(javascript.perReadingMicroseconds)} µs`);
  console.log(
    `resident memory: VictoriaMetrics idle ${mib(idle.victoria)} MiB, peak ${mib(peaks.victoria!)} MiB; ` +
      `Verdant idle ${mib(idle.verdant)} MiB (${mib(demoResident)} MiB after start-up with the demo data), peak ${mib(peaks.verdant!)} MiB`,
  );
  console.log(`  of which anonymous (not mapped files) at idle: VictoriaMetrics ${mib(idleAnonymous.victoria)} MiB, Verdant ${mib(idleAnonymous.verdant)} MiB (${mib(demoAnonymous)} MiB with the demo data)`);

  return {
    benchmark: "ingest",
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), cpu: os.cpus()[0]?.model ?? "unknown" },
    peer: vm.version,
    config: {
      seconds: SECONDS, devices: DEVICES, sensorsPerDevice: SENSORS_PER_DEVICE, batchSize: BATCH, inFlight: IN_FLIGHT, repeats: REPEATS, attempt: ATTEMPT,
      sustained: { minutes: SUSTAINED_MINUTES, rate: SUSTAINED_RATE, inFlight: SUSTAINED_IN_FLIGHT },
      mixed: {
        seconds: MIXED_SECONDS, rate: MIXED_RATE, inFlight: MIXED_IN_FLIGHT, pollers: MIXED_POLLERS, pollSeconds: MIXED_POLL_SECONDS, chartsPerSecond: MIXED_CHARTS,
        dashboardSite: { devices: MIXED_DASH_DEVICES, sensors: MIXED_DASH_DEVICES * KEYS.length, cadenceSeconds: MIXED_DASH_CADENCE, historyHours: MIXED_HISTORY_HOURS },
      },
    },
    summary: report,
    phases,
    verification: {
      verdant: { acknowledgedReadings: verdantAcked, storedRows: stored.rows, acknowledgedBatches: verdantBatches, storedBatches: stored.batches, exact },
      victoria: { acknowledgedReadings: acknowledged("victoria"), storedSamples: vmStored, series: vmSeries },
    },
    engineCeiling: ceiling,
    javascript,
    serverTotals: totals,
    chartsFromMemory: charts,
    memoryBytes: {
      victoria: { idle: idle.victoria, idleAnonymous: idleAnonymous.victoria, peak: peaks.victoria, highWaterMark: hwm.victoria },
      verdant: { idle: idle.verdant, idleAnonymous: idleAnonymous.verdant, afterStartWithDemo: demoResident, afterStartWithDemoAnonymous: demoAnonymous, peak: peaks.verdant, highWaterMark: hwm.verdant },
    },
  };
}

function checkLoad(target: Target, r: LoadResult) {
  if (r.duplicates > 0) throw new Error(`${NAMES[target]} answered unique batches as duplicates (${r.duplicates} readings)`);
  if (r.batches === 0) throw new Error(`${NAMES[target]} acknowledged no batch`);
}

interface TargetSummary {
  readingsPerSecond: Spread;
  p50: Spread;
  p90: Spread;
  p99: Spread;
  max: Spread;
}

function summaryOf(runs: LoadResult[]): TargetSummary {
  return {
    readingsPerSecond: spreadOf(runs.map((r) => r.readingsPerSecond)),
    p50: spreadOf(runs.map((r) => r.latenciesMs.p50)),
    p90: spreadOf(runs.map((r) => r.latenciesMs.p90)),
    p99: spreadOf(runs.map((r) => r.latenciesMs.p99)),
    max: spreadOf(runs.map((r) => r.latenciesMs.max)),
  };
}

/** Verdant ÷ VictoriaMetrics per run, then the median and spread over runs. */
function ratiosOf(pairs: Record<Target, LoadResult>[]) {
  const of = (f: (r: LoadResult) => number) => spreadOf(pairs.map((p) => f(p.verdant) / Math.max(1e-9, f(p.victoria))));
  return { readingsPerSecond: of((r) => r.readingsPerSecond), p50: of((r) => r.latenciesMs.p50), p99: of((r) => r.latenciesMs.p99) };
}

/** What the issue asks for, per scenario. */
function targetOf(inFlight: number, s: { verdant: TargetSummary; ratio: ReturnType<typeof ratiosOf> }): string {
  if (inFlight === 1) return `lone client ack p50 ≤ 20 ms: ${s.verdant.p50.median <= 20 ? "met" : "NOT met"}`;
  if (inFlight === 16) return `rate ≥ 0.5× the peer: ${s.ratio.readingsPerSecond.median >= 0.5 ? "met" : "NOT met"}`;
  if (inFlight === 128) return `rate ≥ 1.0× the peer: ${s.ratio.readingsPerSecond.median >= 1 ? "met" : "NOT met"}`;
  return "";
}

function summarize(phases: Phase[]) {
  const scenarios = [...new Set(phases.filter((p) => p.mode === "scenario").map((p) => p.inFlight))].map((inFlight) => {
    const runs = phases.filter((p) => p.mode === "scenario" && p.inFlight === inFlight);
    const s = {
      inFlight,
      runs: runs.length,
      victoria: summaryOf(runs.map((r) => r.load.victoria)),
      verdant: summaryOf(runs.map((r) => r.load.verdant)),
      ratio: ratiosOf(runs.map((r) => r.load)),
    };
    return { ...s, target: targetOf(inFlight, s) };
  });
  const lineProtocol = [...new Set(phases.filter((p) => p.mode === "line-protocol").map((p) => p.inFlight))].map((inFlight) => {
    const runs = phases.filter((p) => p.mode === "line-protocol" && p.inFlight === inFlight);
    const json = phases.filter((p) => p.mode === "scenario" && p.inFlight === inFlight);
    const verdant = summaryOf(runs.map((r) => r.load.verdant));
    return {
      inFlight,
      runs: runs.length,
      victoria: summaryOf(runs.map((r) => r.load.victoria)),
      verdant,
      ratio: ratiosOf(runs.map((r) => r.load)),
      /** Verdant's line protocol rate ÷ its JSON rate at the same number in flight (medians). */
      toJson: json.length > 0 ? verdant.readingsPerSecond.median / summaryOf(json.map((r) => r.load.verdant)).readingsPerSecond.median : null,
    };
  });
  const sustained = phases.find((p) => p.mode === "sustained");
  const mixed = phases.find((p) => p.mode === "mixed");
  const dashSite = phases.find((p) => p.mode === "mixed-dashboard-site");
  return {
    scenarios,
    lineProtocol,
    sustained: sustained
      ? {
          victoria: { ...summaryOf([sustained.load.victoria]), windows: sustained.load.victoria.windows },
          verdant: { ...summaryOf([sustained.load.verdant]), windows: sustained.load.verdant.windows },
          ratio: ratiosOf([sustained.load]),
          target: `p99 ≤ 250 ms in every 30 s window: ${sustained.load.verdant.windows.every((w) => w.latenciesMs.p99 <= 250) ? "met" : "NOT met"}`,
        }
      : null,
    mixed: mixed
      ? {
          ingest: { victoria: summaryOf([mixed.load.victoria]), verdant: summaryOf([mixed.load.verdant]) },
          dashboardSiteIngest: { victoria: summaryOf([dashSite!.load.victoria]), verdant: summaryOf([dashSite!.load.verdant]) },
          dashboards: mixed.dashboards!,
          target: `dashboard p99 ≤ 100 ms: ${mixed.dashboards!.verdant.all.latenciesMs.p99 <= 100 ? "met" : "NOT met"} (${mixed.dashboards!.verdant.all.callsPerSecond} queries/s beside ${compact(mixed.load.verdant.readingsPerSecond)} readings/s)`,
        }
      : null,
  };
}

function printReport(report: ReturnType<typeof summarize>, vm: Victoria) {
  const rate = (n: number) => compact(n);
  const row = (label: string, name: string, s: TargetSummary, tail = "") =>
    console.log(
      `${pad(label, 10)}${pad(name, 17)}${pad(withSpread(s.readingsPerSecond, rate), 26)}${pad(withSpread(s.p50, ms), 22)}${pad(withSpread(s.p90, ms), 22)}${pad(withSpread(s.p99, ms), 22)}${pad(withSpread(s.max, ms), 22)}${tail}`,
    );
  console.log(`\ningest (${vm.version} as the peer; medians, [min–max] over runs)`);
  console.log(`${pad("in flight", 10)}${pad("target", 17)}${pad("readings/s", 26)}${pad("ack p50", 22)}${pad("p90", 22)}${pad("p99", 22)}${pad("max", 22)}`);
  for (const s of report.scenarios) {
    row(String(s.inFlight), NAMES.victoria, s.victoria);
    row("", NAMES.verdant, s.verdant);
    console.log(
      `${pad("", 10)}${pad("Verdant ÷ peer", 17)}${pad(withSpread(s.ratio.readingsPerSecond, ratio), 26)}${pad(withSpread(s.ratio.p50, ratio), 22)}${pad("", 22)}${pad(withSpread(s.ratio.p99, ratio), 22)}${pad("", 22)}${s.target}`,
    );
  }
  if (report.lineProtocol.length > 0) {
    console.log("\nline protocol: the same batches to Verdant's /write (InfluxDB 1.x API); the peer's side as above");
    for (const s of report.lineProtocol) {
      row(String(s.inFlight), NAMES.victoria, s.victoria);
      row("", `${NAMES.verdant} (lp)`, s.verdant);
      console.log(
        `${pad("", 10)}${pad("Verdant ÷ peer", 17)}${pad(withSpread(s.ratio.readingsPerSecond, ratio), 26)}${pad(withSpread(s.ratio.p50, ratio), 22)}${pad("", 22)}${pad(withSpread(s.ratio.p99, ratio), 22)}${pad("", 22)}` +
          (s.toJson === null ? "" : `line protocol ÷ JSON (Verdant): ${ratio(s.toJson)}`),
      );
    }
  }
  if (report.sustained) {
    const s = report.sustained;
    console.log("\nsustained, per 30 s window (readings/s, p99):");
    for (const target of ["victoria", "verdant"] as const) {
      console.log(`  ${pad(NAMES[target], 16)} ${s[target].windows.map((w) => `${compact(w.readingsPerSecond)} ${ms(w.latenciesMs.p99)}`).join(" | ")}`);
    }
    row("whole run", NAMES.victoria, s.victoria);
    row("", NAMES.verdant, s.verdant, s.target);
  }
  if (report.mixed) {
    const m = report.mixed;
    console.log(`\nmixed: the fleet ingesting beside dashboard users of a site of ${MIXED_DASH_DEVICES * KEYS.length} sensors (reporting every ${MIXED_DASH_CADENCE} s)`);
    row("ingest", NAMES.victoria, m.ingest.victoria);
    row("", NAMES.verdant, m.ingest.verdant);
    row("the site", NAMES.victoria, m.dashboardSiteIngest.victoria);
    row("", NAMES.verdant, m.dashboardSiteIngest.verdant);
    for (const kind of ["latest", "chart", "all"] as const) {
      const part = (t: Target) => {
        const d = m.dashboards[t][kind];
        return `${NAMES[t]} ${d.callsPerSecond}/s p50 ${ms(d.latenciesMs.p50)} p99 ${ms(d.latenciesMs.p99)} max ${ms(d.latenciesMs.max)}, ${d.valuesPerAnswer} values per answer${d.errors ? ` (${d.errors} errors, the first: ${d.firstError?.slice(0, 120)})` : ""}`;
      };
      const r = m.dashboards.verdant[kind].latenciesMs.p99 / Math.max(1e-9, m.dashboards.victoria[kind].latenciesMs.p99);
      console.log(`  ${pad(kind === "all" ? "all queries" : kind === "latest" ? "latest values" : "24 h charts", 14)} ${part("victoria")}; ${part("verdant")}; p99 ${ratio(r)}`);
    }
    for (const t of ["victoria", "verdant"] as const) {
      const w = m.dashboards[t].windows;
      if (w.length > 1) console.log(`  ${pad(NAMES[t], 14)} p99 by ${w[1]!.fromSecond - w[0]!.fromSecond} s of sending: ${w.map((x) => ms(x.p99)).join(", ")}`);
    }
    console.log(`  ${m.target}`);
  }
}

await main();
