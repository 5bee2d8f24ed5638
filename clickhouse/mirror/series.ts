import { EMBEDDED_READERS } from "../chdb-pool";
import { queryColumns, type Clickhouse } from "../client";
import { lowerBound } from "./sorted";
import type { WriteClock, WrittenBatch } from "./writes";

/**
 * Recent fixed-size buckets of the sensors people chart, kept in this process's memory and
 * brought up to date by every write: a one-sensor 24-hour chart answered without a query.
 *
 * An entry holds one sensor's buckets of one size from some instant on, with no end: every write
 * after it was loaded adds its readings to the buckets (`note`), so it answers any range from
 * that instant up to now and beyond. Each bucket keeps what makes the answer exact and can take
 * one more reading: sum, min, max, count, and the newest reading's value and time.
 *
 * Loading must see exactly the writes the entry will not hear of. A load reads the engine's raw
 * readings; a sensor's part of it is kept only when no write of that sensor was under way when it
 * began and none began before it ended (the write clock, ./writes.ts): then the engine's snapshot
 * holds every write of it noted before and none noted after. Otherwise its rows still answer the call that
 * asked, and the next call loads again. Embedded chDB only, like the latest values
 * (./latest.ts): elsewhere other servers write too.
 */

/** A sensor's buckets as columns, index i of each array describing the same bucket (what analytics.series answers). */
export interface HeldBuckets {
  /** Bucket starts, epoch ms, ascending; only buckets with readings. */
  t: number[];
  avg: number[];
  min: number[];
  max: number[];
  count: number[];
  /** The value of each bucket's newest reading. */
  last: number[];
}

/** Per bucket of the caller's (index j: [starts[j], starts[j + 1])): what its readings add up to. */
export interface BucketTotals {
  sum: number[];
  count: number[];
  min: number[];
  max: number[];
}

interface Entry {
  stepMs: number;
  /** Covers every reading from here on (epoch ms, a bucket start). */
  fromMs: number;
  t: number[];
  sum: number[];
  min: number[];
  max: number[];
  count: number[];
  last: number[];
  lastTs: number[];
  usedAt: number;
}

/** Loads of one kind running at once: as many as the embedded engine has reading connections. */
const PARALLEL_LOADS = EMBEDDED_READERS;

/** At most this many buckets across entries (about 60 B each): the least recently read go first. */
const MAX_BUCKETS = 600_000;

export class SeriesMirror {
  /** sensor id → bucket size (ms) → entry. */
  #entries = new Map<string, Map<number, Entry>>();
  #buckets = 0;
  /** Keeps the least recently used order cheap: entries are stamped with a counter. */
  #clock = 0;
  /** Counted in sensors: asked for, answered from memory, loaded, and of those kept or not (a write overlapped the load). */
  readonly stats = { asked: 0, fromMemory: 0, loads: 0, loaded: 0, kept: 0, notKept: 0 };

  constructor(
    private readonly ch: Clickhouse,
    private readonly writes: WriteClock,
  ) {}

  /** The buckets of [fromMs, toMs) of each sensor held from fromMs or earlier; the others are left out. */
  read(sensorIds: readonly string[], stepMs: number, fromMs: number, toMs: number): Map<string, HeldBuckets> {
    const held = new Map<string, HeldBuckets>();
    this.stats.asked += sensorIds.length;
    for (const id of sensorIds) {
      const entry = this.#entries.get(id)?.get(stepMs);
      if (!entry || entry.fromMs > fromMs) continue;
      entry.usedAt = ++this.#clock;
      held.set(id, slice(entry, fromMs, toMs));
      this.#trim(entry, fromMs);
    }
    this.stats.fromMemory += held.size;
    return held;
  }

  /** Whether a sensor's buckets of this size are held from fromMs or earlier (tests, diagnostics). */
  holds(sensorId: string, stepMs: number, fromMs: number): boolean {
    const entry = this.#entries.get(sensorId)?.get(stepMs);
    return entry !== undefined && entry.fromMs <= fromMs;
  }

  /**
   * Loads these sensors' buckets from fromMs on from the engine and answers [fromMs, toMs) with
   * them; keeps them when the load saw exactly the writes noted so far. Loads of one bucket size
   * and start (every 24-hour chart asked within the same 5 minutes) run two at a time, one per
   * reading connection of the engine; those arriving meanwhile go together in the next: under
   * load, one query serves many charts. `companions` are loaded and kept along, not answered: the
   * sensors the caller expects to be asked for next.
   */
  async load(sensorIds: readonly string[], stepMs: number, fromMs: number, toMs: number, companions: readonly string[] = []): Promise<Map<string, HeldBuckets>> {
    const loaded = await this.#gather(companions.length > 0 ? [...sensorIds, ...companions] : sensorIds, stepMs, fromMs);
    const answer = new Map<string, HeldBuckets>();
    for (const id of sensorIds) answer.set(id, slice(loaded.get(id)!, fromMs, toMs));
    return answer;
  }

  /**
   * Each sensor's sum, count, min and max over buckets of its own (`starts` ascending, each on
   * this bucket size's grid, the last ending at toMs): a fleet's calendar days summed from hourly
   * buckets. From memory where held from starts[0], else loaded like `load`.
   */
  async totals(sensorIds: readonly string[], stepMs: number, starts: readonly number[], toMs: number): Promise<Map<string, BucketTotals>> {
    const fromMs = starts[0]!;
    const entries = new Map<string, Entry>();
    const missing: string[] = [];
    this.stats.asked += sensorIds.length;
    for (const id of sensorIds) {
      const entry = this.#entries.get(id)?.get(stepMs);
      if (!entry || entry.fromMs > fromMs) missing.push(id);
      else {
        entry.usedAt = ++this.#clock;
        entries.set(id, entry);
      }
    }
    this.stats.fromMemory += entries.size;
    const held = [...entries.values()];
    if (missing.length > 0) {
      const loaded = await this.#gather(missing, stepMs, fromMs);
      for (const id of missing) entries.set(id, loaded.get(id)!);
    }
    const totals = new Map<string, BucketTotals>();
    for (const [id, entry] of entries) totals.set(id, regroup(entry, starts, toMs));
    for (const entry of held) this.#trim(entry, fromMs);
    return totals;
  }

  /** Per kind of load (`${stepMs}/${fromMs}`): how many run, and the group gathering for the next. */
  #kinds = new Map<string, { running: number; waiting?: { ids: Set<string>; start: () => void; loaded: Promise<Map<string, Entry>> } }>();

  #gather(sensorIds: readonly string[], stepMs: number, fromMs: number): Promise<Map<string, Entry>> {
    const kind = `${stepMs}/${fromMs}`;
    let state = this.#kinds.get(kind);
    if (!state) this.#kinds.set(kind, (state = { running: 0 }));
    const kindState = state;
    let group = kindState.waiting;
    if (!group) {
      const ids = new Set<string>();
      let start!: () => void;
      const started = new Promise<void>((resolve) => (start = resolve));
      const loaded = started.then(() => {
        // Sent now: later callers gather for the next one.
        if (kindState.waiting?.ids === ids) kindState.waiting = undefined;
        kindState.running++;
        const running = this.#query([...ids], stepMs, fromMs);
        // Failed or not, it makes room for the group waiting; the last one cleans up.
        running.then(done, done).then(() => {
          kindState.running--;
          if (kindState.waiting) kindState.waiting.start();
          else if (kindState.running === 0 && this.#kinds.get(kind) === kindState) this.#kinds.delete(kind);
        });
        return running;
      });
      kindState.waiting = group = { ids, start, loaded };
      // Callers of this same turn join it; while PARALLEL_LOADS run, later ones gather for the next.
      if (kindState.running < PARALLEL_LOADS) start();
    }
    for (const id of sensorIds) group.ids.add(id);
    return group.loaded;
  }

  async #query(sensorIds: string[], stepMs: number, fromMs: number): Promise<Map<string, Entry>> {
    const { result, exact } = await this.writes.watched(sensorIds, () => queryColumns<{ sensor_id: string[]; t_ms: number[]; s: number[]; lo: number[]; hi: number[]; n: number[]; last_v: number[]; last_ms: number[] }>(
      this.ch,
      `SELECT sensor_id, intDiv(toUnixTimestamp64Milli(ts), {step:Int64}) * {step:Int64} AS t_ms, sum(value) AS s, min(value) AS lo, max(value) AS hi,
              count() AS n, argMax(value, ts) AS last_v, toUnixTimestamp64Milli(max(ts)) AS last_ms
       FROM ${this.ch.database}.readings
       WHERE sensor_id IN {ids:Array(UUID)} AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
       GROUP BY sensor_id, t_ms
       ORDER BY sensor_id, t_ms`,
      { ids: sensorIds, step: stepMs, from: fromMs },
    ));
    const c = result.columns;
    const loaded = new Map<string, Entry>();
    for (const id of sensorIds) loaded.set(id, { stepMs, fromMs, t: [], sum: [], min: [], max: [], count: [], last: [], lastTs: [], usedAt: 0 });
    for (let row = 0; row < c.sensor_id.length; row++) {
      const e = loaded.get(c.sensor_id[row]!)!;
      e.t.push(c.t_ms[row]!);
      e.sum.push(c.s[row]!);
      e.min.push(c.lo[row]!);
      e.max.push(c.hi[row]!);
      e.count.push(c.n[row]!);
      e.last.push(c.last_v[row]!);
      e.lastTs.push(c.last_ms[row]!);
    }
    this.stats.loads++;
    this.stats.loaded += sensorIds.length;
    // Kept ones may take a write's readings before a caller slices them: only writes this load did not see.
    for (const [id, entry] of loaded) {
      if (!exact(id)) this.stats.notKept++;
      else {
        this.#keep(id, entry);
        this.stats.kept++;
      }
    }
    return loaded;
  }

  /** A write has landed: its readings join the buckets of the entries of its sensors. */
  note(batch: WrittenBatch): void {
    // Most batches are of sensors nobody charts: their rows are not even decoded.
    if (!batch.sensorIds.some((id) => this.#entries.has(id))) return;
    for (const row of batch.rows()) {
      const entries = this.#entries.get(row.sensorId);
      if (entries) for (const entry of entries.values()) this.#add(entry, row.ts, row.value);
    }
  }

  forget(): void {
    this.#entries = new Map();
    this.#buckets = 0;
  }

  #keep(id: string, entry: Entry): void {
    entry.usedAt = ++this.#clock;
    let bySize = this.#entries.get(id);
    if (!bySize) this.#entries.set(id, (bySize = new Map()));
    const previous = bySize.get(entry.stepMs);
    if (previous) this.#buckets -= previous.t.length;
    bySize.set(entry.stepMs, entry);
    this.#buckets += entry.t.length;
    if (this.#buckets > MAX_BUCKETS) this.#evict();
  }

  /** Drops the least recently read entries until a tenth of the room is free again. */
  #evict(): void {
    const all: { id: string; entry: Entry }[] = [];
    for (const [id, bySize] of this.#entries) for (const entry of bySize.values()) all.push({ id, entry });
    all.sort((a, b) => a.entry.usedAt - b.entry.usedAt);
    for (const { id, entry } of all) {
      if (this.#buckets <= MAX_BUCKETS * 0.9) break;
      const bySize = this.#entries.get(id)!;
      bySize.delete(entry.stepMs);
      if (bySize.size === 0) this.#entries.delete(id);
      this.#buckets -= entry.t.length;
    }
  }

  /**
   * An entry read for a later start than it holds, with more buckets before that start than after
   * (a chart whose 24 hours moved on for days), keeps only what is read: it would otherwise grow
   * by a day's buckets a day. A reader of the earlier range loads it again.
   */
  #trim(e: Entry, fromMs: number): void {
    const drop = lowerBound(e.t, fromMs);
    if (drop === 0 || drop <= e.t.length - drop) return;
    for (const column of [e.t, e.sum, e.min, e.max, e.count, e.last, e.lastTs]) column.splice(0, drop);
    e.fromMs = fromMs;
    this.#buckets -= drop;
  }

  #add(e: Entry, ts: number, value: number): void {
    if (ts < e.fromMs) return;
    const start = Math.floor(ts / e.stepMs) * e.stepMs;
    let at = e.t.length;
    // Readings mostly land in the newest bucket or after it.
    if (at > 0 && e.t[at - 1]! >= start) at = lowerBound(e.t, start);
    if (e.t[at] !== start) {
      pushBucket(e, at, start, value, ts);
      if (++this.#buckets > MAX_BUCKETS) this.#evict();
      return;
    }
    e.sum[at]! += value;
    if (value < e.min[at]!) e.min[at] = value;
    if (value > e.max[at]!) e.max[at] = value;
    e.count[at]! += 1;
    // A tie is the engine's choice either way (argMax keeps whichever it meets first): the later write here.
    if (ts >= e.lastTs[at]!) {
      e.last[at] = value;
      e.lastTs[at] = ts;
    }
  }
}

const done = () => {};

function pushBucket(e: Entry, at: number, start: number, value: number, ts: number): void {
  e.t.splice(at, 0, start);
  e.sum.splice(at, 0, value);
  e.min.splice(at, 0, value);
  e.max.splice(at, 0, value);
  e.count.splice(at, 0, 1);
  e.last.splice(at, 0, value);
  e.lastTs.splice(at, 0, ts);
}

function regroup(e: Entry, starts: readonly number[], toMs: number): BucketTotals {
  const n = starts.length;
  const out: BucketTotals = { sum: new Array(n).fill(0), count: new Array(n).fill(0), min: new Array(n).fill(Infinity), max: new Array(n).fill(-Infinity) };
  let j = 0;
  for (let i = lowerBound(e.t, starts[0]!); i < e.t.length && e.t[i]! < toMs; i++) {
    while (j + 1 < n && e.t[i]! >= starts[j + 1]!) j++;
    out.sum[j]! += e.sum[i]!;
    out.count[j]! += e.count[i]!;
    if (e.min[i]! < out.min[j]!) out.min[j] = e.min[i]!;
    if (e.max[i]! > out.max[j]!) out.max[j] = e.max[i]!;
  }
  return out;
}

function slice(e: Entry, fromMs: number, toMs: number): HeldBuckets {
  const start = lowerBound(e.t, fromMs);
  const end = lowerBound(e.t, toMs);
  const sum = e.sum.slice(start, end);
  const count = e.count.slice(start, end);
  return {
    t: e.t.slice(start, end),
    avg: sum.map((s, i) => s / count[i]!),
    min: e.min.slice(start, end),
    max: e.max.slice(start, end),
    count,
    last: e.last.slice(start, end),
  };
}
