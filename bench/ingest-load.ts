// The load generator for bench/ingest.ts, run as its own process so that generating load does
// not share an event loop with the server. Many simulated devices each send batches one after
// another (the next after the previous was acknowledged), as the device SDK does.
//
//   bun bench/ingest-load.ts <url> <tokens-file> <batch size> <concurrency> <seconds> [json|lp]
// (lp: the same readings as InfluxDB line protocol to POST /api/v2/write, one reading a line)
// prints one JSON line: { batches, readings, accepted, duplicates, seconds, latenciesMs: { p50, p90, p99, max }, errors }

import { readFileSync } from "node:fs";

const [url, tokensFile, batchSizeArg, concurrencyArg, secondsArg, formatArg] = process.argv.slice(2);
const lineProtocol = formatArg === "lp";
const tokens = JSON.parse(readFileSync(tokensFile!, "utf8")) as string[];
const batchSize = Number(batchSizeArg);
const concurrency = Number(concurrencyArg);
const seconds = Number(secondsArg);

// Bodies are prepared up front (a pool of readings with realistic values and timestamps); each
// request only splices in its own batchId, so the generator spends its CPU on sending.
const now = Date.now() - 3600_000;
const POOL = 64;
const readingsPool: string[] = [];
const linesPool: string[][] = [];
for (let p = 0; p < POOL; p++) {
  const parts: string[] = [];
  for (let i = 0; i < batchSize; i++) {
    const sensor = ["soil1", "soil2", "temp", "hum", "lux", "battery"][i % 6];
    const value = Math.round((20 + 30 * Math.sin((p * batchSize + i) / 50)) * 100) / 100;
    // Line protocol: `soil1 value=41.2 <ms>` is the key `soil1`, as the JSON reading's sensor;
    // the timestamp is added per request (below).
    parts.push(lineProtocol ? `${sensor} value=${value} ` : `{"sensor":"${sensor}","ts":${now + p * batchSize + i},"value":${value}}`);
  }
  readingsPool.push(lineProtocol ? "" : `,"readings":[${parts.join(",")}]}`);
  linesPool.push(parts);
}

/**
 * A line protocol body has no batch id: a fully timestamped body is its own batch (a hash of
 * it), and such a body may be a retry, so the server looks it up in ClickHouse by its sensors and
 * time span. So each request carries timestamps of its own, as real clients' do (reusing the
 * JSON pool's would make every lookup read all the rows stored at those times so far), starting
 * two days back, a millisecond apart.
 */
const lineProtocolStart = Date.now() - 2 * 86_400_000;
function lineProtocolBody(pool: number, sequence: number): string {
  const lines = linesPool[pool]!;
  const t0 = lineProtocolStart + sequence * batchSize;
  let body = "";
  for (let i = 0; i < lines.length; i++) body += `${lines[i]}${t0 + i}\n`;
  return body;
}

const runId = `${batchSize}x${concurrency}-${Date.now().toString(36)}`;
const latencies: number[] = [];
let batches = 0;
let readings = 0;
let accepted = 0;
let duplicates = 0;
let errors = 0;
const statusCounts: Record<string, number> = {};
const deadline = performance.now() + seconds * 1000;
let sequence = 0;

async function device(slot: number): Promise<void> {
  const token = tokens[slot % tokens.length]!;
  const headers = lineProtocol
    ? { authorization: `Token ${token}`, "content-type": "text/plain; charset=utf-8" }
    : { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const target = lineProtocol ? `${url}/api/v2/write?org=bench&bucket=bench&precision=ms` : `${url}/v1/ingest`;
  while (performance.now() < deadline) {
    // Unique per run and device: a reused id would (rightly) be answered as a duplicate.
    const batchId = `${runId}-${slot}-${sequence++}`; // unique across devices too, so stored batches can be counted
    const readingsJson = readingsPool[sequence % POOL];
    const lines = lineProtocol ? lineProtocolBody(sequence % POOL, sequence) : "";
    // A retried batch keeps its id (and says it is a retry): nothing acknowledged may be lost or stored twice.
    for (let attempt = 1; ; attempt++) {
      // A line protocol retry sends the same bytes: the same batch.
      const body = lineProtocol ? lines : `{"batchId":"${batchId}","attempt":${attempt}${readingsJson}`;
      const started = performance.now();
      let status = 0;
      try {
        const response = await fetch(target, { method: "POST", headers, body });
        status = response.status;
        const receipt = lineProtocol
          ? (await response.arrayBuffer(),
            { accepted: Number(response.headers.get("x-verdant-accepted") ?? 0), duplicates: Number(response.headers.get("x-verdant-duplicates") ?? 0) })
          : ((await response.json()) as { accepted?: number; duplicates?: number });
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
        if (status === (lineProtocol ? 204 : 200)) {
          latencies.push(performance.now() - started);
          batches += 1;
          readings += (receipt.accepted ?? 0) + (receipt.duplicates ?? 0);
          accepted += receipt.accepted ?? 0;
          duplicates += receipt.duplicates ?? 0;
          break;
        }
      } catch {
        statusCounts.network = (statusCounts.network ?? 0) + 1;
      }
      errors += 1;
      await Bun.sleep(status === 429 ? 20 : 100);
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, (_, i) => device(i)));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0) * 100) / 100;
console.log(
  JSON.stringify({
    batches,
    readings,
    accepted,
    duplicates,
    seconds: Math.round(elapsed * 100) / 100,
    latenciesMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: pct(100) },
    errors,
    statusCounts,
  }),
);
