// Dashboard users for the mixed mode of `npm run bench:ingest`, in their own process: `pollers`
// open dashboards each asking for the latest value of every sensor every `pollSeconds` (the first
// at a random moment, as people open them), plus chart loads (one sensor, the last 24 hours in
// 5-minute buckets) at `chartsPerSecond`. Against Verdant through the typed client; against
// VictoriaMetrics through its Prometheus query API, asking the same questions.
//
//   bun bench/dashboard-load.ts <spec.json>   → one JSON line (DashboardResult) on stdout

import { readFileSync } from "node:fs";
import { createAppClient } from "../client";
import { percentiles, round, type Percentiles } from "./support/stats";

export interface DashboardSpec {
  target: "verdant" | "victoria";
  url: string;
  /** Verdant: a session token of a member of the site. */
  token?: string;
  siteId?: string;
  pollers: number;
  pollSeconds: number;
  chartsPerSecond: number;
  seconds: number;
  /** Sensors a chart may show: Verdant's id, the peer's device and sensor tags. */
  sensors: { id: string; device: string; key: string }[];
  /** The peer's series are `${measurement}_value`. */
  measurement: string;
}

export interface QueryKindResult {
  calls: number;
  errors: number;
  /** The first failure's message, if any. */
  firstError?: string;
  /** Values per answer on average (sensors with a latest value; non-empty buckets of a chart): empty answers would be fast and wrong. */
  valuesPerAnswer: number;
  callsPerSecond: number;
  latenciesMs: Percentiles;
}

export interface DashboardResult {
  target: DashboardSpec["target"];
  latest: QueryKindResult;
  chart: QueryKindResult;
  /** Both kinds together: what the "dashboard queries per second" counts. */
  all: QueryKindResult;
  /** Both kinds by when they were sent, in windows of WINDOW_SECONDS: a cold start against steady state. */
  windows: { fromSecond: number; calls: number; p50: number; p99: number; max: number }[];
}

const WINDOW_SECONDS = 10;

const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as DashboardSpec;
const HOUR = 3_600_000;
const metric = `${spec.measurement}_value`;

const api = spec.target === "verdant" ? createAppClient({ url: spec.url, token: spec.token!, batch: false }) : undefined;

/** A Prometheus API query: its result's series and their values. */
async function promql(path: "query" | "query_range", params: Record<string, string>): Promise<{ series: number; values: number }> {
  const response = await fetch(`${spec.url}/api/v1/${path}`, { method: "POST", body: new URLSearchParams(params) });
  // Refusals (too many queued queries, a timeout) come as text, not JSON.
  if (!response.ok) throw new Error(`VictoriaMetrics answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const body = (await response.json()) as { status: string; data?: { result: { values?: unknown[] }[] } };
  if (body.status !== "success") throw new Error(`VictoriaMetrics answered ${response.status}`);
  const result = body.data!.result;
  return { series: result.length, values: result.reduce((n, r) => n + (r.values?.length ?? 1), 0) };
}

/** The latest value of every sensor of the site; how many have one. */
async function latest(): Promise<number> {
  if (api) return (await api.analytics.latest.query({ siteId: spec.siteId! })).values.value.filter((v) => v !== null).length;
  return (await promql("query", { query: metric })).values;
}

/** One sensor's last 24 hours in 5-minute buckets; how many buckets hold readings. */
async function chart(): Promise<number> {
  const sensor = spec.sensors[Math.floor(Math.random() * spec.sensors.length)]!;
  const now = Date.now();
  if (api) {
    const res = await api.analytics.series.query({ siteId: spec.siteId!, sensorIds: [sensor.id], from: new Date(now - 24 * HOUR), to: new Date(now), bucket: "5m" });
    return res.series[0]?.buckets.t.length ?? 0;
  } else {
    return (await promql("query_range", {
      query: `avg_over_time(${metric}{device="${sensor.device}",sensor="${sensor.key}"}[5m])`,
      start: String((now - 24 * HOUR) / 1000),
      end: String(now / 1000),
      step: "300",
    })).values;
  }
}

/** Every answered call: when it was sent (ms after the start) and how long it took. */
const sent: [at: number, ms: number][] = [];
const kinds = {
  latest: { times: [] as number[], errors: 0, values: 0, firstError: undefined as string | undefined },
  chart: { times: [] as number[], errors: 0, values: 0, firstError: undefined as string | undefined },
};
async function timed(kind: keyof typeof kinds, call: () => Promise<number>): Promise<void> {
  const started = performance.now();
  try {
    const values = await call();
    const took = performance.now() - started;
    kinds[kind].times.push(took);
    sent.push([started - loadStarted, took]);
    kinds[kind].values += values;
  } catch (error) {
    kinds[kind].errors++;
    kinds[kind].firstError ??= error instanceof Error ? error.message : String(error);
  }
}

const started = performance.now();
const loadStarted = started;
const deadline = started + spec.seconds * 1000;

async function poller(): Promise<void> {
  await Bun.sleep(Math.random() * spec.pollSeconds * 1000);
  for (let due = performance.now(); due < deadline; due += spec.pollSeconds * 1000) {
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    if (performance.now() >= deadline) return;
    await timed("latest", latest);
  }
}

async function charts(): Promise<void> {
  if (spec.chartsPerSecond <= 0) return;
  const pending: Promise<void>[] = [];
  for (let k = 0; ; k++) {
    const due = started + (k * 1000) / spec.chartsPerSecond;
    if (due >= deadline) break;
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    pending.push(timed("chart", chart));
  }
  await Promise.all(pending);
}

await Promise.all([...Array.from({ length: spec.pollers }, () => poller()), charts()]);
const seconds = (performance.now() - started) / 1000;
const summary = (times: number[], errors: number, values: number, firstError?: string): QueryKindResult => ({
  calls: times.length,
  errors,
  ...(firstError ? { firstError } : {}),
  valuesPerAnswer: round(values / Math.max(1, times.length), 1),
  callsPerSecond: round(times.length / seconds, 1),
  latenciesMs: percentiles(times),
});
const windows: DashboardResult["windows"] = [];
for (let from = 0; from < spec.seconds; from += WINDOW_SECONDS) {
  const times = sent.filter(([at]) => at >= from * 1000 && at < (from + WINDOW_SECONDS) * 1000).map(([, took]) => took);
  if (times.length === 0) continue;
  const p = percentiles(times);
  windows.push({ fromSecond: from, calls: times.length, p50: p.p50, p99: p.p99, max: p.max });
}
const result: DashboardResult = {
  target: spec.target,
  latest: summary(kinds.latest.times, kinds.latest.errors, kinds.latest.values, kinds.latest.firstError),
  chart: summary(kinds.chart.times, kinds.chart.errors, kinds.chart.values, kinds.chart.firstError),
  all: summary([...kinds.latest.times, ...kinds.chart.times], kinds.latest.errors + kinds.chart.errors, kinds.latest.values + kinds.chart.values),
  windows,
};
console.log(JSON.stringify(result));
