import type { DecodedRow } from "../insert";

/** A batch of readings an INSERT wrote, as the mirrors take it. */
export interface WrittenBatch {
  sensorIds: readonly string[];
  /** Each sensor's newest reading in the batch, in the order of sensorIds. */
  latestTs: ArrayLike<number>;
  latestValues: ArrayLike<number>;
  /** Every reading (decoded only when a mirror needs them). */
  rows(): readonly DecodedRow[];
}

/** A running load's sensors, overlapped once a write of one of them begins (or anything is forgotten). */
interface Watch {
  readonly sensorIds: ReadonlySet<string>;
  overlapped: boolean;
}

interface Write {
  batches: readonly Pick<WrittenBatch, "sensorIds">[];
  /** Every sensor the write touches, made when a watch first asks. */
  sensors?: Set<string>;
}

/**
 * Which writes of readings are under way, for loads that must know exactly which writes the
 * engine's snapshot held (./series.ts, ./recent.ts). A load of some sensors that began with no
 * write of them under way, and ended before any write of them began (or anything was forgotten),
 * saw every write of them noted before it and none after: writes of other sensors, the usual case
 * while a busy fleet reports, cannot change what it read.
 *
 * Writes end in the order they began (ingest's flusher sends one INSERT at a time).
 */
export class WriteClock {
  #inFlight: Write[] = [];
  #watches = new Set<Watch>();

  begin(batches: readonly Pick<WrittenBatch, "sensorIds">[]): void {
    const write: Write = { batches };
    this.#inFlight.push(write);
    for (const watch of this.#watches) if (!watch.overlapped && touches(write, watch)) watch.overlapped = true;
  }

  /** After the oldest write's batches were noted (or forgotten, when it failed). */
  end(): void {
    this.#inFlight.shift();
  }

  forgot(): void {
    for (const watch of this.#watches) watch.overlapped = true;
  }

  /**
   * Runs a load of these sensors and says whether it saw exactly the writes of them noted before
   * it (then what it read can be kept and brought up to date by the writes noted after).
   */
  async watched<T>(sensorIds: readonly string[], load: () => Promise<T>): Promise<{ result: T; exact: boolean }> {
    const watch: Watch = { sensorIds: new Set(sensorIds), overlapped: false };
    watch.overlapped = this.#inFlight.some((write) => touches(write, watch));
    this.#watches.add(watch);
    try {
      const result = await load();
      return { result, exact: !watch.overlapped };
    } finally {
      this.#watches.delete(watch);
    }
  }
}

function touches(write: Write, watch: Watch): boolean {
  if (!write.sensors) {
    write.sensors = new Set();
    for (const batch of write.batches) for (const id of batch.sensorIds) write.sensors.add(id);
  }
  const [small, large] = write.sensors.size < watch.sensorIds.size ? [write.sensors, watch.sensorIds] : [watch.sensorIds, write.sensors];
  for (const id of small) if (large.has(id)) return true;
  return false;
}
