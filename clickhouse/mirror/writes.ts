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

/** A running load's sensors, and those of them a write began of while it ran (all, once anything is forgotten). */
interface Watch {
  readonly sensorIds: ReadonlySet<string>;
  overlapped: Set<string> | "all";
}

interface Write {
  batches: readonly Pick<WrittenBatch, "sensorIds">[];
  /** Every sensor the write touches, made when a watch first asks. */
  sensors?: Set<string>;
}

/**
 * Which writes of readings are under way, for loads that must know exactly which writes the
 * engine's snapshot held (./series.ts, ./recent.ts). What a load read of a sensor for which no
 * write was under way when it began, and none began before it ended (nor was anything
 * forgotten), holds every write of that sensor noted before it and none after: writes of other
 * sensors, the usual case while a busy fleet reports, cannot change it. So a load of many sensors
 * keeps all of them but those a write overlapped.
 *
 * Writes end in the order they began (ingest's flusher sends one INSERT at a time).
 */
export class WriteClock {
  #inFlight: Write[] = [];
  #watches = new Set<Watch>();

  begin(batches: readonly Pick<WrittenBatch, "sensorIds">[]): void {
    const write: Write = { batches };
    this.#inFlight.push(write);
    for (const watch of this.#watches) overlap(write, watch);
  }

  /** After the oldest write's batches were noted (or forgotten, when it failed). */
  end(): void {
    this.#inFlight.shift();
  }

  forgot(): void {
    for (const watch of this.#watches) watch.overlapped = "all";
  }

  /**
   * Runs a load of these sensors and says, per sensor, whether it saw exactly the writes of it
   * noted before it (then what it read of it can be kept and brought up to date by the writes
   * noted after).
   */
  async watched<T>(sensorIds: readonly string[], load: () => Promise<T>): Promise<{ result: T; exact: (sensorId: string) => boolean }> {
    const watch: Watch = { sensorIds: new Set(sensorIds), overlapped: new Set() };
    for (const write of this.#inFlight) overlap(write, watch);
    this.#watches.add(watch);
    try {
      const result = await load();
      const overlapped = watch.overlapped;
      return { result, exact: (id) => overlapped !== "all" && !overlapped.has(id) };
    } finally {
      this.#watches.delete(watch);
    }
  }
}

/** Marks the watch's sensors the write touches. */
function overlap(write: Write, watch: Watch): void {
  const overlapped = watch.overlapped;
  if (overlapped === "all") return;
  if (!write.sensors) {
    write.sensors = new Set();
    for (const batch of write.batches) for (const id of batch.sensorIds) write.sensors.add(id);
  }
  const [small, large] = write.sensors.size < watch.sensorIds.size ? [write.sensors, watch.sensorIds] : [watch.sensorIds, write.sensors];
  for (const id of small) if (large.has(id)) overlapped.add(id);
}
