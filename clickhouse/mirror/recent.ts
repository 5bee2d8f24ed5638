import { queryColumns, type Clickhouse } from "../client";
import { lowerBound, upperBound } from "./sorted";
import type { WriteClock, WrittenBatch } from "./writes";

/**
 * The recent raw readings of sensors whose windows are judged (a crossing: which of a site's
 * sensors average below 25 over the last 30 minutes; an aggregate rule, every minute), kept in this
 * process's memory and brought up to date by every write: asked again, such a window is summed
 * here instead of reading a granule of every sensor from every part the window lies in.
 *
 * An entry holds every reading of one sensor from some instant on, in time order, so any window
 * starting there or later is answered exactly, whatever its edges (to the millisecond). Loads are
 * kept as in ./series.ts: each sensor's part only when no write of it overlapped the load (./writes.ts).
 * A sensor with more than MAX_LOADED readings from the window's start (one reporting many times
 * a second) is not held: the caller asks the engine for it, which aggregates without copying.
 */

/** Sum, count, min and max of one sensor's readings in a window (count 0: none). */
export interface WindowAggregate {
  sum: number;
  count: number;
  min: number;
  max: number;
}

/** The aggregate a crossing or an aggregate rule asks for, of a window with readings. */
export function aggregateValue(a: WindowAggregate, fn: "avg" | "min" | "max"): number {
  return fn === "avg" ? a.sum / a.count : fn === "min" ? a.min : a.max;
}

interface Entry {
  /** Holds every reading from here on (epoch ms). */
  fromMs: number;
  ts: number[];
  values: number[];
  usedAt: number;
}

/** At most this many readings across entries (16 bytes each): the least recently read go first. */
const MAX_READINGS = 1_000_000;
/** A sensor with more readings than this from the start of the window it was loaded for is left to the engine. */
const MAX_LOADED = 4_096;
/** How long a sensor found with too many readings goes straight to the engine before a load is tried again. */
const BUSY_RETRY_MS = 10 * 60_000;
/** An entry grown past this by writes keeps its newer half (its start moves on). */
const MAX_HELD = 2 * MAX_LOADED;

export class RecentMirror {
  #entries = new Map<string, Entry>();
  /** Sensors found with too many readings to hold, and until when (epoch ms) they go straight to the engine. */
  #tooBusy = new Map<string, number>();
  #readings = 0;
  #clock = 0;
  /** Counted in sensors: asked for, answered from memory, loaded, and of those kept, not kept (a write overlapped) or too many readings. */
  readonly stats = { asked: 0, fromMemory: 0, loads: 0, loaded: 0, kept: 0, notKept: 0, tooMany: 0 };

  constructor(
    private readonly ch: Clickhouse,
    private readonly writes: WriteClock,
  ) {}

  /**
   * Each sensor's aggregate over [fromMs, toMs): from memory where held from fromMs or earlier,
   * else loaded from the engine. `unheld`: the sensors with too many readings to hold, not answered.
   */
  async aggregates(sensorIds: readonly string[], fromMs: number, toMs: number): Promise<{ aggregates: Map<string, WindowAggregate>; unheld: string[] }> {
    const aggregates = new Map<string, WindowAggregate>();
    const missing: string[] = [];
    const busy: string[] = [];
    const now = Date.now();
    this.stats.asked += sensorIds.length;
    for (const id of sensorIds) {
      if ((this.#tooBusy.get(id) ?? 0) > now) {
        busy.push(id);
        continue;
      }
      const entry = this.#entries.get(id);
      if (!entry || entry.fromMs > fromMs) {
        missing.push(id);
        continue;
      }
      entry.usedAt = ++this.#clock;
      aggregates.set(id, aggregate(entry, fromMs, toMs));
      this.#trim(entry, fromMs);
    }
    this.stats.fromMemory += aggregates.size;
    if (missing.length === 0) return { aggregates, unheld: busy };
    const { loaded, unheld } = await this.#load(missing, fromMs);
    for (const [id, entry] of loaded) aggregates.set(id, aggregate(entry, fromMs, toMs));
    // Not loaded again for a while: each load would copy MAX_LOADED of their readings for nothing.
    for (const id of unheld) this.#tooBusy.set(id, Date.now() + BUSY_RETRY_MS);
    return { aggregates, unheld: [...busy, ...unheld] };
  }

  /** Whether a sensor's readings are held from fromMs or earlier (tests, diagnostics). */
  holds(sensorId: string, fromMs: number): boolean {
    const entry = this.#entries.get(sensorId);
    return entry !== undefined && entry.fromMs <= fromMs;
  }

  async #load(sensorIds: string[], fromMs: number): Promise<{ loaded: Map<string, Entry>; unheld: string[] }> {
    const { result, exact } = await this.writes.watched(sensorIds, () =>
      queryColumns<{ sensor_id: string[]; t: number[]; v: number[] }>(
        this.ch,
        `SELECT sensor_id, toUnixTimestamp64Milli(ts) AS t, value AS v
         FROM ${this.ch.database}.readings
         WHERE sensor_id IN {ids:Array(UUID)} AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
         ORDER BY sensor_id, ts
         LIMIT {limit:UInt32} BY sensor_id`,
        { ids: sensorIds, from: fromMs, limit: MAX_LOADED + 1 },
      ),
    );
    const c = result.columns;
    const loaded = new Map<string, Entry>();
    for (const id of sensorIds) loaded.set(id, { fromMs, ts: [], values: [], usedAt: 0 });
    for (let row = 0; row < c.sensor_id.length; row++) {
      const entry = loaded.get(c.sensor_id[row]!)!;
      entry.ts.push(c.t[row]!);
      entry.values.push(c.v[row]!);
    }
    const unheld: string[] = [];
    for (const [id, entry] of loaded) {
      if (entry.ts.length > MAX_LOADED) {
        loaded.delete(id);
        unheld.push(id);
      }
    }
    this.stats.loads++;
    this.stats.loaded += sensorIds.length;
    this.stats.tooMany += unheld.length;
    for (const [id, entry] of loaded) {
      if (!exact(id)) this.stats.notKept++;
      else {
        this.#keep(id, entry);
        this.stats.kept++;
      }
    }
    return { loaded, unheld };
  }

  /** A write has landed: its readings join the entries of its sensors. */
  note(batch: WrittenBatch): void {
    if (!batch.sensorIds.some((id) => this.#entries.has(id))) return;
    for (const row of batch.rows()) {
      const entry = this.#entries.get(row.sensorId);
      if (!entry || row.ts < entry.fromMs) continue;
      insert(entry, row.ts, row.value);
      this.#readings++;
      if (entry.ts.length > MAX_HELD) this.#drop(entry, entry.ts[entry.ts.length - MAX_LOADED]!);
    }
    if (this.#readings > MAX_READINGS) this.#evict();
  }

  forget(): void {
    this.#entries = new Map();
    this.#tooBusy = new Map();
    this.#readings = 0;
  }

  #keep(id: string, entry: Entry): void {
    entry.usedAt = ++this.#clock;
    const previous = this.#entries.get(id);
    if (previous) this.#readings -= previous.ts.length;
    this.#entries.set(id, entry);
    this.#readings += entry.ts.length;
    if (this.#readings > MAX_READINGS) this.#evict();
  }

  /** Drops the least recently read entries until a tenth of the room is free again. */
  #evict(): void {
    const all = [...this.#entries].sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [id, entry] of all) {
      if (this.#readings <= MAX_READINGS * 0.9) break;
      this.#entries.delete(id);
      this.#readings -= entry.ts.length;
    }
  }

  /** Read for a later start, with more readings before it than after: the earlier ones go (a rule's window moves on). */
  #trim(entry: Entry, fromMs: number): void {
    const drop = lowerBound(entry.ts, fromMs);
    if (drop > 0 && drop > entry.ts.length - drop) this.#drop(entry, fromMs);
  }

  /** The entry keeps its readings from fromMs on, and holds from there. */
  #drop(entry: Entry, fromMs: number): void {
    const drop = lowerBound(entry.ts, fromMs);
    entry.ts.splice(0, drop);
    entry.values.splice(0, drop);
    entry.fromMs = fromMs;
    this.#readings -= drop;
  }
}

function insert(entry: Entry, ts: number, value: number): void {
  const n = entry.ts.length;
  // Readings mostly come after the newest one held.
  if (n === 0 || ts >= entry.ts[n - 1]!) {
    entry.ts.push(ts);
    entry.values.push(value);
    return;
  }
  const at = upperBound(entry.ts, ts);
  entry.ts.splice(at, 0, ts);
  entry.values.splice(at, 0, value);
}

function aggregate(entry: Entry, fromMs: number, toMs: number): WindowAggregate {
  const start = lowerBound(entry.ts, fromMs);
  const end = lowerBound(entry.ts, toMs);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = entry.values[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { sum, count: Math.max(0, end - start), min, max };
}
