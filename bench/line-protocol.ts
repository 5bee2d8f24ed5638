// `bun bench/line-protocol.ts`: the line protocol parser on one core, no HTTP.
//
// Three bodies of 1,000 lines, shaped as the clients that send them: one reading per line with
// millisecond timestamps (the ingest benchmark's scenario), Telegraf (tags, five fields,
// nanosecond timestamps) and Tasmota (tags, one `value` field, no timestamp). For each: parsing
// alone, then the whole step the endpoint runs before the pipeline (UTF-8 decoding, parsing,
// mapping to readings, the batch id), as fields per second. BENCH_ITERATIONS sets the repeats.

import { lineProtocolBatch, parseLineProtocol } from "../server/pipelines/ingest/line-protocol";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2_000);
const LINES = 1_000;
const now = Date.now();

const bodies: { name: string; precision: "ms" | "ns"; text: string }[] = [
  {
    name: "one reading per line, ms timestamps",
    precision: "ms",
    text: Array.from({ length: LINES }, (_, i) => {
      const sensor = ["soil1", "soil2", "temp", "hum", "lux", "battery"][i % 6];
      return `${sensor} value=${Math.round((20 + 30 * Math.sin(i / 50)) * 100) / 100} ${now - 3_600_000 + i}`;
    }).join("\n"),
  },
  {
    name: "Telegraf: tags, 5 fields, ns timestamps",
    precision: "ns",
    text: Array.from(
      { length: LINES },
      (_, i) =>
        `plants,host=greenhouse-pi,sensor=bed${i % 8} moisture=${(40 + (i % 17) / 3).toFixed(2)},temperature=${(18 + (i % 11) / 7).toFixed(3)},humidity=${(55 + (i % 13) / 5).toFixed(1)},battery=${80 + (i % 20)}i,rssi=-${60 + (i % 30)}i ${BigInt(now - 3_600_000 + i) * 1_000_000n + 123_456n}`,
    ).join("\n"),
  },
  {
    name: "Tasmota: tags, one value, no timestamp",
    precision: "ns",
    text: Array.from({ length: LINES }, (_, i) => `${["temperature", "humidity", "illuminance"][i % 3]},device=tasmota_${i % 10},sensor=bme280 value=${(20 + (i % 50) / 10).toFixed(1)}`).join(
      "\n",
    ),
  },
];

const limits = { maxReadings: 10_000, maxClockSkewMs: 300_000, maxAgeMs: 89 * 86_400_000 };

function rate(fields: number, fn: () => void): number {
  for (let i = 0; i < Math.min(200, ITERATIONS); i++) fn(); // warm up the JIT
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) fn();
  const seconds = (performance.now() - started) / 1000;
  return Math.round((fields * ITERATIONS) / seconds);
}

for (const body of bodies) {
  const bytes = new TextEncoder().encode(body.text);
  const parsed = parseLineProtocol(body.text, { precision: body.precision });
  if (!parsed.ok) throw new Error(`${body.name}: ${JSON.stringify(parsed.errors[0])}`);
  const check = lineProtocolBatch(bytes, { deviceId: "bench-device", precision: body.precision, now, limits });
  if (!check.ok) throw new Error(`${body.name}: ${check.message}`);
  const parseRate = rate(parsed.fields, () => parseLineProtocol(body.text, { precision: body.precision }));
  const wholeRate = rate(parsed.fields, () => lineProtocolBatch(bytes, { deviceId: "bench-device", precision: body.precision, now, limits }));
  console.log(
    `${body.name} (${bytes.byteLength.toLocaleString("en")} bytes, ${parsed.fields.toLocaleString("en")} fields): ` +
      `parse ${parseRate.toLocaleString("en")} fields/s; decode + parse + map + batch id ${wholeRate.toLocaleString("en")} fields/s`,
  );
}
