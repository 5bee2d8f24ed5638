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

export interface LatestSample {
  ts: number;
  value: number;
}

export class LatestMirror {
  #values = new Map<string, LatestSample>();
  /** Loaded (or loading) from the table; notes made while cold would be lost, so none are. */
  #warm = false;
  #loading: Promise<void> | undefined;
  /** Bumped by `forget`: a load that began before it must not make the copy warm. */
  #generation = 0;

  constructor(private readonly ch: Clickhouse) {}

  /** The latest reading of each of these sensors that has one. */
  async read(sensorIds: readonly string[]): Promise<Map<string, LatestSample>> {
    while (!this.#warm) await (this.#loading ??= this.#load());
    const found = new Map<string, LatestSample>();
    for (const id of sensorIds) {
      const sample = this.#values.get(id);
      if (sample) found.set(id, sample);
    }
    return found;
  }

  note(batch: WrittenBatch): void {
    if (!this.#warm && !this.#loading) return; // the next load reads it from the table
    for (let i = 0; i < batch.sensorIds.length; i++) this.#take(batch.sensorIds[i]!, batch.latestTs[i]!, batch.latestValues[i]!, true);
  }

  forget(): void {
    this.#generation++;
    this.#warm = false;
    this.#loading = undefined;
    this.#values = new Map();
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
    const current = this.#values.get(id);
    if (current === undefined || ts > current.ts || (later && ts === current.ts)) this.#values.set(id, { ts, value });
  }
}
