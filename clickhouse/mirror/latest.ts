import { queryColumns, type Clickhouse } from "../client";
import type { WrittenBatch } from "./writes";

/**
 * Each sensor's latest reading, kept in this process's memory as an exact copy of what the
 * engine's `readings_latest` answers: the question dashboards ask every few seconds and the
 * automation asks on every batch, answered without a query.
 *
 * Exact because it is built the way the table is: each sensor's reading with the highest time
 * wins, whatever order they arrive in, so loading the table and hearing of every write
 * after it (`note`) give the same answer in either order, even interleaved (who tells it of
 * writes, and when it forgets: ./index.ts).
 *
 * Ties (two readings of a sensor with the same time) are the engine's choice too: within one
 * INSERT the first of them (argMax keeps the first maximum), across INSERTs the later one
 * (ReplacingMergeTree keeps the last inserted row).
 */

/** The latest reading of each sensor of a list, in the list's order: NaN time and value where none. */
export interface LatestOfList {
  ts: Float64Array;
  value: Float64Array;
}

export class LatestMirror {
  /**
   * Each sensor's place in the two columns. A dashboard asks for the same list of ids every few
   * seconds (the site directory's own array): its places are found once, so a read is array
   * indexing, not a hash lookup per sensor (measured: 2,000 lookups and a Map of the answer took
   * about 1 ms of the server's thread per call, a third of a poll's cost).
   */
  #slots = new Map<string, number>();
  #ts: Float64Array = new Float64Array(1024);
  #value: Float64Array = new Float64Array(1024);
  /** Each list's places (-1: no reading yet, looked up again next time), for this generation. */
  #lists = new WeakMap<readonly string[], { generation: number; slots: Int32Array; unknown: number }>();
  /** Loaded (or loading) from the table; notes made while cold would be lost, so none are. */
  #warm = false;
  #loading: Promise<void> | undefined;
  /** Bumped by `forget`: a load that began before it must not make the copy warm. */
  #generation = 0;

  constructor(private readonly ch: Clickhouse) {}

  /** The latest reading of each of these sensors, in their order. */
  async readList(sensorIds: readonly string[]): Promise<LatestOfList> {
    while (!this.#warm) await (this.#loading ??= this.#load());
    let list = this.#lists.get(sensorIds);
    if (!list || list.generation !== this.#generation) {
      list = { generation: this.#generation, slots: new Int32Array(sensorIds.length).fill(-1), unknown: sensorIds.length };
      this.#lists.set(sensorIds, list);
    }
    if (list.unknown > 0) {
      list.unknown = 0;
      for (let i = 0; i < sensorIds.length; i++) {
        if (list.slots[i]! >= 0) continue;
        const slot = this.#slots.get(sensorIds[i]!);
        if (slot === undefined) list.unknown++;
        else list.slots[i] = slot;
      }
    }
    const out: LatestOfList = { ts: new Float64Array(sensorIds.length).fill(NaN), value: new Float64Array(sensorIds.length).fill(NaN) };
    for (let i = 0; i < sensorIds.length; i++) {
      const slot = list.slots[i]!;
      if (slot < 0) continue;
      out.ts[i] = this.#ts[slot]!;
      out.value[i] = this.#value[slot]!;
    }
    return out;
  }

  note(batch: WrittenBatch): void {
    if (!this.#warm && !this.#loading) return; // the next load reads it from the table
    for (let i = 0; i < batch.sensorIds.length; i++) this.#take(batch.sensorIds[i]!, batch.latestTs[i]!, batch.latestValues[i]!, true);
  }

  forget(): void {
    this.#generation++;
    this.#warm = false;
    this.#loading = undefined;
    this.#slots = new Map();
    this.#ts = new Float64Array(1024);
    this.#value = new Float64Array(1024);
  }

  async #load(): Promise<void> {
    const generation = this.#generation;
    try {
      const { columns } = await queryColumns<{ sensor_id: string[]; v: number[]; t_ms: number[] }>(
        this.ch,
        `SELECT sensor_id, argMax(value, ts) AS v, toUnixTimestamp64Milli(max(ts)) AS t_ms FROM ${this.ch.database}.readings_latest GROUP BY sensor_id`,
      );
      if (generation !== this.#generation) return; // forgotten meanwhile: the caller loads again
      // Notes heard while loading are newer than or the same as the table's rows: the newest stays.
      for (let i = 0; i < columns.sensor_id.length; i++) this.#take(columns.sensor_id[i]!, columns.t_ms[i]!, columns.v[i]!, false);
      this.#warm = true;
    } finally {
      if (generation === this.#generation) this.#loading = undefined;
    }
  }

  /** A later write wins a tie (`later`); a row loaded from the table does not beat a note. */
  #take(id: string, ts: number, value: number, later: boolean): void {
    let slot = this.#slots.get(id);
    if (slot === undefined) {
      slot = this.#slots.size;
      if (slot === this.#ts.length) {
        this.#ts = grown(this.#ts);
        this.#value = grown(this.#value);
      }
      this.#slots.set(id, slot);
    } else {
      const current = this.#ts[slot]!;
      if (ts < current || (ts === current && !later)) return;
    }
    this.#ts[slot] = ts;
    this.#value[slot] = value;
  }
}

function grown(column: Float64Array): Float64Array {
  const bigger = new Float64Array(column.length * 2);
  bigger.set(column);
  return bigger;
}
