import type { Clickhouse } from "../client";
import { LatestMirror } from "./latest";
import { RecentMirror } from "./recent";
import { SeriesMirror } from "./series";
import { WriteClock, type WrittenBatch } from "./writes";

/**
 * Exact copies of what dashboards and rules ask most, kept in memory by the writes themselves:
 * each sensor's latest reading (./latest.ts), the recent buckets of charted sensors (./series.ts)
 * and the recent readings of sensors whose windows are judged (./recent.ts).
 *
 * Only for embedded chDB, whose data directory belongs to this process, so every write of
 * readings passes here: ingest's flusher says when an INSERT begins and what it wrote once it
 * has returned (`readingsWritten`), or that it failed or repaired a range (`readingsRewritten`).
 * Anything else that writes readings (demo data, a script's INSERT … SELECT) calls
 * `forgetReadings` afterwards, and the copies load again from the engine. Against a ClickHouse
 * server other servers write too, so there are no copies: `mirrorsOf` is undefined.
 */

export interface Mirrors {
  latest: LatestMirror;
  series: SeriesMirror;
  recent: RecentMirror;
}

interface Held extends Mirrors {
  clock: WriteClock;
}

const held = new WeakMap<Clickhouse, Held>();

export function mirrorsOf(ch: Clickhouse): Mirrors | undefined {
  return heldOf(ch);
}

function heldOf(ch: Clickhouse): Held | undefined {
  if (ch.kind !== "chdb") return undefined;
  let mirrors = held.get(ch);
  if (!mirrors) {
    const clock = new WriteClock();
    held.set(ch, (mirrors = { clock, latest: new LatestMirror(ch), series: new SeriesMirror(ch, clock), recent: new RecentMirror(ch, clock) }));
  }
  return mirrors;
}

/**
 * An INSERT of these batches is about to be sent (the clock must know of it even if nothing was
 * read yet: a load of their sensors running meanwhile cannot tell whether it saw them).
 */
export function readingsWriteBegins(ch: Clickhouse, batches: readonly WrittenBatch[]): void {
  heldOf(ch)?.clock.begin(batches);
}

/** The INSERT announced by readingsWriteBegins has returned: these batches are in the engine. */
export function readingsWritten(ch: Clickhouse, batches: readonly WrittenBatch[]): void {
  const mirrors = held.get(ch);
  if (!mirrors) return;
  for (const batch of batches) {
    mirrors.latest.note(batch);
    mirrors.series.note(batch);
    mirrors.recent.note(batch);
  }
  mirrors.clock.end();
}

/**
 * The write announced by readingsWriteBegins failed (it may have landed in part), or it also
 * deleted readings (the repair of a range cut off by a crash): the copies load again.
 */
export function readingsRewritten(ch: Clickhouse): void {
  const mirrors = held.get(ch);
  if (!mirrors) return;
  forgetReadings(ch);
  mirrors.clock.end();
}

/** Readings were written (or deleted) some other way: the copies load again on their next read. */
export function forgetReadings(ch: Clickhouse): void {
  const mirrors = held.get(ch);
  if (!mirrors) return;
  mirrors.clock.forgot();
  mirrors.latest.forget();
  mirrors.series.forget();
  mirrors.recent.forget();
}

/** What the copies answered and loaded so far (the server logs it at shutdown; benchmarks print it). */
export function mirrorStats(ch: Clickhouse) {
  const mirrors = held.get(ch);
  return mirrors ? { series: { ...mirrors.series.stats }, recent: { ...mirrors.recent.stats } } : undefined;
}

export type { BucketTotals, HeldBuckets } from "./series";
export type { LatestOfList } from "./latest";
export { aggregateValue, type WindowAggregate } from "./recent";
export type { WrittenBatch } from "./writes";
