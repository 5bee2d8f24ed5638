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

/** What a load saw of the writes: compared with the clock once it has its rows. */
export interface WriteSnapshot {
  idle: boolean;
  begun: number;
  forgotten: number;
}

/**
 * Which writes of readings are under way, for loads that must know exactly which writes the
 * engine's snapshot held (./series.ts): one that began with none under way and ended before any
 * began (or anything was forgotten) saw every write noted before it and none after.
 */
export class WriteClock {
  #begun = 0;
  #inFlight = 0;
  #forgotten = 0;

  begin(): void {
    this.#begun++;
    this.#inFlight++;
  }

  /** After the write's batches were noted (or forgotten, when it failed). */
  end(): void {
    this.#inFlight--;
  }

  forgot(): void {
    this.#forgotten++;
  }

  snapshot(): WriteSnapshot {
    return { idle: this.#inFlight === 0, begun: this.#begun, forgotten: this.#forgotten };
  }

  unchangedSince(s: WriteSnapshot): boolean {
    return s.idle && s.begun === this.#begun && s.forgotten === this.#forgotten;
  }
}
