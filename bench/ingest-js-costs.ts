// The JavaScript steps of ingesting one batch, timed on one core: JSON.parse, validation and the
// encoding for ClickHouse (and, beside them, reading the same batch as line protocol). The only part of the benchmarks that imports server internals, kept
// here on its own: bench/ingest.ts runs it as a separate process and reports it as unavailable
// if the internals it names have changed.
//
//   bun bench/ingest-js-costs.ts   → one JSON line
import { batchHash, encodeBatch, type SensorForRows } from "../clickhouse/insert";
import { lineProtocolBatch } from "../server/pipelines/ingest/line-protocol";
import { parseBatch } from "../server/pipelines/ingest/parse";

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

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const now = Date.now();
const readings = Array.from({ length: 1000 }, (_, i) => ({ sensor: ["soil1", "temp", "hum"][i % 3]!, ts: now - 3600_000 + i, value: 20 + (i % 50) / 7 }));
const body = JSON.stringify({ batchId: "bench-batch", readings });
const sensors = new Map<string, SensorForRows>(
  ["soil1", "temp", "hum"].map((k) => [k, { id: crypto.randomUUID(), metric: "temperature", calibration: k === "soil1" ? { rawLow: 3000, valueLow: 0, rawHigh: 1000, valueHigh: 100 } : null }]),
);
const limits = { maxReadings: 10_000, maxClockSkewMs: 300_000, maxAgeMs: 89 * 86_400_000 };
let parsed = parseBatch(JSON.parse(body), now, limits);
const jsonMs = timeIt(200, () => JSON.parse(body));
const validateMs =
  timeIt(200, () => {
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
const perReading = (ms: number) => round((ms * 1e6) / 1000 / 1000); // µs per reading
console.log(
  JSON.stringify({
    perBatchOf1000Ms: { jsonParse: round(jsonMs), validate: round(validateMs), encode: round(encodeMs), lineProtocol: round(lineProtocolMs) },
    perReadingMicroseconds: { jsonParse: perReading(jsonMs), validate: perReading(validateMs), encode: perReading(encodeMs), lineProtocol: perReading(lineProtocolMs) },
    singleCoreReadingsPerSecond: Math.round(1000 / ((jsonMs + validateMs + encodeMs) / 1000)),
  }),
);
