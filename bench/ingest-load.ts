// The load generator of the benchmarks, run as its own process so that generating load does not
// share an event loop with a server or with the process that times queries. The same code drives
// Verdant (POST /v1/ingest, JSON batches as a plain client sends them; or, with `encoding: "lp"`,
// its InfluxDB endpoint POST /write with line protocol, as Telegraf sends it) and VictoriaMetrics
// (POST /write, line protocol): the same readings in the same batches (bench/support/readings.ts),
// the same number in flight, the same pacing; only the encoding and the URL differ.
//
//   bun bench/ingest-load.ts <spec.json>   → one JSON line (LoadResult) on stdout
//
// Each of `concurrency` senders takes the next batch number, sends it, and takes another once it
// is acknowledged (a device uploading its backlog does the same). With `rate` > 0 batch k is not
// sent before start + k · batchSize / rate (an open schedule, as a fleet of devices reporting on
// their own clocks). A 429/503 or a network error is retried with the same batch id. SIGTERM ends
// the run early: no new batches, the ones in flight finish, the result is printed.

import { readFileSync } from "node:fs";
import { checkLayout, endOfBatches, lineProtocolBody, verdantBody, type FleetLayout } from "./support/readings";
import { percentiles, round, type Percentiles } from "./support/stats";

export interface LoadSpec {
  target: "verdant" | "victoria";
  url: string;
  layout: FleetLayout;
  /** Verdant only: device tokens, one per layout device, in the same order. */
  tokens?: string[];
  concurrency: number;
  /** Stop taking new batches after this many seconds … */
  seconds: number;
  /** … or after this many batches. */
  maxBatches?: number;
  /** Readings per second to aim at; 0: as fast as the target acknowledges. */
  rate: number;
  /** Batch ids are `${runId}-${k}`: unique per run, so nothing is (rightly) refused as a duplicate. */
  runId: string;
  /** Verdant only: declare `"attempt"` (1, then 2, 3… on resends). Default: a plain client, without. */
  attempt?: boolean;
  /** Latency and rate per window of this many seconds (sustained runs); 0 for none. */
  windowSeconds?: number;
  /** Verdant only: "lp" sends each batch as line protocol to /write (the device token as `Token`). */
  encoding?: "json" | "lp";
}

export interface LoadWindow {
  fromSecond: number;
  readingsPerSecond: number;
  latenciesMs: Percentiles;
}

export interface LoadResult {
  target: LoadSpec["target"];
  batches: number;
  readings: number;
  /** Verdant's receipts: readings stored, and readings of batches already stored (must be 0 here). */
  accepted: number;
  duplicates: number;
  seconds: number;
  readingsPerSecond: number;
  /** From a batch's first send to its acknowledgement, retries included. */
  latenciesMs: Percentiles;
  retries: number;
  statusCounts: Record<string, number>;
  /** Batches 0 … batchesTaken − 1 were sent, and the time they cover ends here (epoch ms). */
  batchesTaken: number;
  dataEndMs: number;
  /** How far behind its schedule the last batch was sent (rate > 0), in seconds. */
  behindScheduleSeconds: number;
  windows: LoadWindow[];
}

const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadSpec;
const { layout } = spec;
checkLayout(layout);
if (spec.target === "verdant" && spec.tokens?.length !== layout.devices.length) throw new Error("a token per device is needed for Verdant");

const verdantJson = spec.target === "verdant" && spec.encoding !== "lp";
const writeUrl = verdantJson ? `${spec.url}/v1/ingest` : `${spec.url}/write?precision=ms`;
const headersOf = (device: number): Record<string, string> =>
  spec.target === "verdant"
    ? verdantJson
      ? { authorization: `Bearer ${spec.tokens![device]}`, "content-type": "application/json" }
      : { authorization: `Token ${spec.tokens![device]}`, "content-type": "text/plain; charset=utf-8" }
    : { "content-type": "text/plain; charset=utf-8" };

let next = 0;
let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
});

const ackAt: number[] = [];
const latency: number[] = [];
const readingsOfAck: number[] = [];
let accepted = 0;
let duplicates = 0;
let retries = 0;
let behind = 0;
const statusCounts: Record<string, number> = {};
const started = performance.now();
const deadline = started + spec.seconds * 1000;
const msPerBatch = spec.rate > 0 ? (layout.batchSize / spec.rate) * 1000 : 0;

async function sendOne(k: number): Promise<void> {
  const device = k % layout.devices.length;
  const headers = headersOf(device);
  const batchId = `${spec.runId}-${k}`;
  const first = performance.now();
  for (let attempt = 1; ; attempt++) {
    // A line protocol body has no batch id: a retry sends the same bytes, which are the batch.
    const body = verdantJson ? verdantBody(layout, k, batchId, spec.attempt ? attempt : undefined) : lineProtocolBody(layout, k);
    let status = 0;
    try {
      const response = await fetch(writeUrl, { method: "POST", headers, body });
      status = response.status;
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      if (verdantJson && status === 200) {
        const receipt = (await response.json()) as { accepted: number; duplicates: number };
        accepted += receipt.accepted;
        duplicates += receipt.duplicates;
        readingsOfAck.push(receipt.accepted + receipt.duplicates);
        break;
      }
      await response.arrayBuffer();
      if (spec.target === "verdant" && status === 204) {
        // Verdant's InfluxDB endpoint answers as InfluxDB does (204, no body), its receipt in headers.
        const stored = Number(response.headers.get("x-verdant-accepted") ?? Number.NaN);
        const known = Number(response.headers.get("x-verdant-duplicates") ?? 0);
        if (!Number.isFinite(stored)) throw new Error("Verdant's /write answered without its receipt headers");
        accepted += stored;
        duplicates += known;
        readingsOfAck.push(stored + known);
        break;
      }
      if (spec.target === "victoria" && status === 204) {
        readingsOfAck.push(layout.batchSize);
        break;
      }
      // Anything but backpressure or an outage is a bug in the benchmark or the target: stop.
      if (status !== 429 && status !== 503) throw new Error(`${spec.target} answered ${status} to batch ${k}`);
    } catch (error) {
      if (status !== 0) throw error;
      statusCounts.network = (statusCounts.network ?? 0) + 1;
    }
    retries++;
    await Bun.sleep(status === 429 ? 20 : 100);
  }
  const now = performance.now();
  ackAt.push(now - started);
  latency.push(now - first);
}

async function sender(): Promise<void> {
  for (;;) {
    if (stopping || performance.now() >= deadline) return;
    if (spec.maxBatches !== undefined && next >= spec.maxBatches) return;
    const k = next++;
    if (msPerBatch > 0) {
      const due = started + k * msPerBatch;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      else behind = -wait;
      // Not sent: its time stays unused (dataEndMs covers every batch number taken).
      if (stopping || performance.now() >= deadline) return;
    }
    await sendOne(k);
  }
}

await Promise.all(Array.from({ length: spec.concurrency }, () => sender()));
const seconds = (performance.now() - started) / 1000;
const readings = readingsOfAck.reduce((a, b) => a + b, 0);

const windows: LoadWindow[] = [];
if (spec.windowSeconds) {
  // Whole windows; the last one also takes the tail (the batches in flight when the time was up),
  // which alone would make a window of a fraction of a second with an absurd rate.
  const width = spec.windowSeconds * 1000;
  const count = Math.max(1, Math.floor((seconds * 1000) / width));
  for (let w = 0; w < count; w++) {
    const inWindow: number[] = [];
    let n = 0;
    const until = w === count - 1 ? Number.POSITIVE_INFINITY : (w + 1) * width;
    for (let i = 0; i < ackAt.length; i++) {
      if (ackAt[i]! >= w * width && ackAt[i]! < until) {
        inWindow.push(latency[i]!);
        n += readingsOfAck[i]!;
      }
    }
    const span = (w === count - 1 ? seconds * 1000 - w * width : width) / 1000;
    windows.push({ fromSecond: w * spec.windowSeconds, readingsPerSecond: Math.round(n / span), latenciesMs: percentiles(inWindow) });
  }
}

const result: LoadResult = {
  target: spec.target,
  batches: latency.length,
  readings,
  accepted,
  duplicates,
  seconds: round(seconds),
  readingsPerSecond: Math.round(readings / seconds),
  latenciesMs: percentiles(latency),
  retries,
  statusCounts,
  batchesTaken: next,
  dataEndMs: endOfBatches(layout, next),
  behindScheduleSeconds: round(behind / 1000),
  windows,
};
console.log(JSON.stringify(result));
