/**
 * The readings the benchmarks send, the same for both targets: batch number k always holds the
 * same readings, encoded as Verdant's JSON batch or as InfluxDB line protocol for the peer.
 *
 * Batch k belongs to device k mod D and covers that device's next `spanMs` (slot ⌊k / D⌋ of its
 * timeline): every sensor of the device gets P = ⌈batchSize / sensors⌉ points spread evenly over
 * the span. So no series ever gets the same timestamp twice (which VictoriaMetrics would count
 * once), batches of all devices move forward together as a live fleet's do, and which batch a
 * reading is in never depends on how fast a target acknowledges.
 */

export interface FleetLayout {
  /** Device names: the `device` tag of line protocol (Verdant knows a device by its token). */
  devices: string[];
  /** Sensor keys of every device. */
  keys: string[];
  batchSize: number;
  /** Epoch ms where slot 0 starts. */
  startMs: number;
  /** How much of a device's time one batch covers. */
  spanMs: number;
  /** Line protocol measurement: series are `${measurement}_value{device, sensor}`. */
  measurement: string;
}

export function pointsPerSensor(layout: Pick<FleetLayout, "batchSize" | "keys">): number {
  return Math.ceil(layout.batchSize / layout.keys.length);
}

export function checkLayout(layout: FleetLayout): void {
  const points = pointsPerSensor(layout);
  if (layout.spanMs < points) throw new Error(`a batch spans ${layout.spanMs} ms but needs ${points} distinct milliseconds per sensor`);
  if (layout.devices.length === 0 || layout.keys.length === 0 || layout.batchSize < 1) throw new Error("empty fleet layout");
}

/** Where slot `slot` of every device starts, and where the slots before `batches` end. */
export const slotStart = (layout: FleetLayout, slot: number) => layout.startMs + slot * layout.spanMs;
export const endOfBatches = (layout: FleetLayout, batches: number) => slotStart(layout, Math.ceil(batches / layout.devices.length));

const LEVELS = 80;
const DAY_POINTS = 1440;
const valueTables = new Map<number, string[]>();

/**
 * Values as sensors report them: a level per sensor (10–90, so some plants are dry and others not),
 * a daily wave of ±5 over 1,440 points and noise, rounded to two decimals. Precomputed as text,
 * so that generating load costs the sender little.
 */
function valuesOfLevel(level: number): string[] {
  let table = valueTables.get(level);
  if (!table) {
    table = Array.from({ length: DAY_POINTS }, (_, q) => {
      const noise = ((level * 7919 + q * 104_729) % 100) / 100;
      return String(Math.round((10 + level + 5 * Math.sin((2 * Math.PI * q) / DAY_POINTS + level) + noise) * 100) / 100);
    });
    valueTables.set(level, table);
  }
  return table;
}

export const levelOf = (device: number, sensor: number, sensors: number) => ((device * sensors + sensor) * 37) % LEVELS;

/** The readings of batch k, handed to `emit(device, sensor, ts, valueText)` in order. */
function forEachReading(layout: FleetLayout, k: number, emit: (device: number, sensor: number, ts: number, value: string) => void): void {
  const D = layout.devices.length;
  const S = layout.keys.length;
  const device = k % D;
  const slot = Math.floor(k / D);
  const base = slotStart(layout, slot);
  const P = pointsPerSensor(layout);
  const tables = layout.keys.map((_, s) => valuesOfLevel(levelOf(device, s, S)));
  for (let r = 0; r < layout.batchSize; r++) {
    const s = r % S;
    const j = (r - s) / S;
    emit(device, s, base + Math.floor((j * layout.spanMs) / P), tables[s]![(slot * P + j) % DAY_POINTS]!);
  }
}

const jsonPrefixes = new WeakMap<FleetLayout, string[]>();

/** Batch k as POST /v1/ingest JSON: a plain client's batch, `attempt` only when asked for. */
export function verdantBody(layout: FleetLayout, k: number, batchId: string, attempt?: number): string {
  let prefixes = jsonPrefixes.get(layout);
  if (!prefixes) jsonPrefixes.set(layout, (prefixes = layout.keys.map((key) => `{"sensor":"${key}","ts":`)));
  let readings = "";
  forEachReading(layout, k, (_, s, ts, value) => {
    readings += `${readings ? "," : ""}${prefixes[s]}${ts},"value":${value}}`;
  });
  return `{"batchId":"${batchId}",${attempt === undefined ? "" : `"attempt":${attempt},`}"readings":[${readings}]}`;
}

/** Batch k as line protocol for /write?precision=ms. */
export function lineProtocolBody(layout: FleetLayout, k: number): string {
  const device = layout.devices[k % layout.devices.length]!;
  const prefixes = layout.keys.map((key) => `${layout.measurement},device=${device},sensor=${key} value=`);
  let body = "";
  forEachReading(layout, k, (_, s, ts, value) => {
    body += `${prefixes[s]}${value} ${ts}\n`;
  });
  return body;
}
