import { batchHash, decodeRows, encodeBatch } from "../../../clickhouse/insert";
import type { Metric } from "../../../shared/metrics";
import { isBoundedValue, MAX_ABS_VALUE_TEXT } from "../../../shared/values";
import { AppError, messageOf, type CommittedReading, type EventHub, type Logger, type ReadingsCommitted } from "../../platform";
import type { AuthenticatedDevice, SensorFacts } from "../../sites";
import type { BatchLedger } from "./batch-ledger";
import type { DeviceActivity } from "./device-activity";
import type { Flusher } from "./flusher";
import type { ParsedBatch } from "./parse";
import type { SensorKeys } from "./sensor-keys";
import type { WalRecord, WriteAheadLog } from "./wal";

/** What a device gets back for an accepted batch. */
export interface Receipt {
  batchId: string;
  accepted: number;
  duplicates: number;
  rejected: { index: number; reason: string }[];
}

/** The queue of acknowledged readings not yet in ClickHouse is full: come back in a second. */
export class IngestSaturatedError extends AppError {
  constructor(message: string) {
    super("TOO_MANY_REQUESTS", message, { retryAfterSeconds: 1 });
  }
}

/** Batches cannot be made durable (the write-ahead log failed) or looked up: come back later. */
export class IngestUnavailableError extends AppError {
  constructor(message: string) {
    super("SERVICE_UNAVAILABLE", message, { retryAfterSeconds: 5 });
  }
}

/**
 * Readings whose calibrated value is not finite or beyond ±MAX_ABS_VALUE (a calibration stored
 * before calibrations were checked, or an extreme raw value on a steep one): the whole batch is
 * refused, each reading named by its index, before anything is stored.
 */
export class CalibratedValueError extends AppError {
  constructor(rejected: { index: number; reason: string }[]) {
    super("BAD_REQUEST", `batch refused: ${rejected.length} readings have a calibrated value that is not finite or beyond ±${MAX_ABS_VALUE_TEXT}; nothing was stored`, {
      details: { accepted: 0, duplicates: 0, rejected: rejected.slice(0, 100) },
    });
  }
}

/** Judges durable batches (the automation engine); resolves once a batch has been judged. */
export type DurableConsumer = (batch: ReadingsCommitted) => Promise<void>;

/**
 * From a validated batch to an acknowledgement: a batch the device already had acknowledged →
 * duplicates (the ledger); sensor keys → sensors (new keys become sensors); encoded as RowBinary
 * in the request's own turn; appended to the write-ahead log and acknowledged once it is on disk.
 * Then, off the device's path: live streams hear of it at once; the flusher copies it to ClickHouse
 * and the consumer (the automation) judges it once it is there, so whatever the automation reads
 * from ClickHouse already holds the batch it judges.
 *
 * The hand-off to the consumer is durable too: which batches have been judged is part of the
 * log's checkpoint, so batches acknowledged just before a crash are judged after the restart
 * (judging is idempotent: a rule state never goes back over readings it has seen).
 */
export class IngestPipeline {
  #consumer: DurableConsumer | undefined;
  /** Delivered to the consumer, in seq order, not yet known to be judged. */
  #outstanding: number[] = [];
  #judgedSeqs = new Set<number>();
  #judged: number;
  #unsaved = false;
  #idle: (() => void)[] = [];
  /** The readings of batches acknowledged by this process, kept until they are handed over. */
  #decoded = new Map<number, () => CommittedReading[]>();

  constructor(
    private readonly sensors: SensorKeys,
    private readonly ledger: BatchLedger,
    private readonly wal: WriteAheadLog,
    private readonly flusher: Flusher,
    private readonly activity: DeviceActivity,
    private readonly ready: () => Promise<void>,
    /** A site's sensors by id, if the site directory has them loaded: the metric of a batch read back from the log. */
    private readonly sensorsNow: (siteId: string) => ReadonlyMap<string, SensorFacts> | undefined,
    private readonly log: Logger,
    private readonly events?: EventHub,
  ) {
    this.#judged = wal.checkpoint.judged;
  }

  async ingest(device: AuthenticatedDevice, batch: ParsedBatch, receivedAt: number): Promise<Receipt> {
    const { batchId, readings } = batch;
    if (readings.length === 0) return { batchId, accepted: 0, duplicates: 0, rejected: [] };
    // Until the window of recent batches is loaded, a retry could not be recognised.
    await this.ready();
    const keys = new Map<string, Metric | undefined>();
    for (const r of readings) if (!keys.has(r.sensor) || r.metric) keys.set(r.sensor, r.metric ?? keys.get(r.sensor));
    const sensors = await this.sensors.resolve(device, keys);
    const hash = batchHash(batchId);
    const encoded = encodeBatch(sensors, readings, hash);
    const outOfBounds = unboundedValues(encoded.values);
    if (outOfBounds.length > 0) throw new CalibratedValueError(outOfBounds);
    const key = { deviceId: device.id, batchId, batchHash: hash, minTs: encoded.minTs, maxTs: encoded.maxTs, timestamped: batch.timestamped, sensorIds: encoded.sensorIds };

    let settle: ((rows: number | undefined) => void) | null = null;
    while (!settle) {
      let known: number | undefined;
      try {
        known = await this.ledger.known(key);
      } catch (error) {
        // The engine's words stay in the log: an answer never carries SQL or engine messages.
        this.log.error({ err: messageOf(error), batchId, deviceId: device.id }, "ingest: looking a batch up in ClickHouse failed");
        throw new IngestUnavailableError(`cannot tell whether batch ${batchId} was stored before: the readings store is unavailable`);
      }
      if (known !== undefined) return { batchId, accepted: 0, duplicates: known, rejected: [] };
      // Claimed synchronously: a copy of this batch arriving meanwhile waits for this one.
      settle = this.ledger.claim(device.id, hash);
    }
    let record: WalRecord;
    try {
      if (!this.flusher.reserve(readings.length)) {
        throw new IngestSaturatedError(`ingest queue is full (${this.flusher.queuedRows} readings not yet in ClickHouse)`);
      }
      const walBatch = { deviceId: device.id, siteId: device.siteId, batchId, batchHash: hash, receivedAt, timestamped: batch.timestamped, rows: readings.length, minTs: encoded.minTs, maxTs: encoded.maxTs, payload: encoded.payload };
      let appended;
      try {
        appended = this.wal.append(walBatch);
        await appended.durable;
      } catch (error) {
        this.flusher.release(readings.length);
        this.log.error({ err: messageOf(error), batchId, deviceId: device.id }, "ingest: the write-ahead log failed");
        throw new IngestUnavailableError("the readings could not be made durable: the server's disk refused them");
      }
      record = { ...walBatch, seq: appended.seq, newest: { sensorIds: encoded.sensorIds, latestTs: encoded.latestTs, latestValues: encoded.latestValues } };
    } catch (error) {
      settle(undefined);
      throw error;
    }
    this.ledger.remember(device.id, hash, readings.length, receivedAt);
    settle(readings.length);
    const committed = memoize(() => committedReadingsOf(sensors, readings, encoded.values));
    this.#decoded.set(record.seq, committed);
    this.flusher.add(record);
    this.activity.record(device.id, receivedAt, encoded.battery);
    if (this.events?.has("readings.committed")) this.events.emit("readings.committed", this.#eventOf(record, committed));
    return { batchId, accepted: readings.length, duplicates: 0, rejected: [] };
  }

  /**
   * The automation's hand-off: from now on every batch once it is in ClickHouse; first, those
   * acknowledged but not judged before a restart that are in ClickHouse already (the rest follow
   * as the flusher copies them).
   */
  attach(consumer: DurableConsumer, unjudged: readonly WalRecord[]): void {
    this.#consumer = consumer;
    const flushed = this.wal.checkpoint.flushed;
    this.flushed(unjudged.filter((r) => r.seq <= flushed && r.seq > this.#judged));
  }

  /** The flusher's report: these batches are in ClickHouse, in log order. */
  flushed(records: readonly WalRecord[]): void {
    for (const record of records) {
      const readings = this.#decoded.get(record.seq) ?? memoize(() => this.#decode(record));
      this.#decoded.delete(record.seq);
      if (this.events?.has("readings.stored")) this.events.emit("readings.stored", this.#eventOf(record, readings));
      if (!this.#consumer) {
        this.#markJudged(record.seq);
        continue;
      }
      this.#outstanding.push(record.seq);
      // The consumer logs its own failures; a batch it could not judge is not judged again.
      const done = () => this.#markJudged(record.seq);
      this.#consumer(this.#eventOf(record, readings)).then(done, done);
    }
  }

  /** The judged watermark, saved with the log's checkpoint (every second and at shutdown). */
  saveJudged(): void {
    if (!this.#unsaved) return;
    this.#unsaved = false;
    this.wal.saveCheckpoint({ judged: this.#judged });
  }

  /** Resolves once every batch handed over so far has been judged. */
  judged(): Promise<void> {
    if (this.#outstanding.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #eventOf(record: WalRecord, readings: () => CommittedReading[]): ReadingsCommitted {
    return { deviceId: record.deviceId, siteId: record.siteId, batchId: record.batchId, receivedAt: record.receivedAt, committedAt: Date.now(), readings };
  }

  #markJudged(seq: number): void {
    this.#judgedSeqs.add(seq);
    while (this.#outstanding.length > 0 && this.#judgedSeqs.has(this.#outstanding[0]!)) {
      const done = this.#outstanding.shift()!;
      this.#judgedSeqs.delete(done);
      if (done > this.#judged) this.#judged = done;
    }
    if (this.#outstanding.length === 0) {
      if (seq > this.#judged) this.#judged = seq;
      this.#judgedSeqs.clear();
      for (const resolve of this.#idle.splice(0)) resolve();
    }
    this.#unsaved = true;
  }

  /**
   * A batch read back from the log (acknowledged before a restart): its rows, each sensor's metric
   * as the site directory has it, if loaded (the automation judges by sensor, not by metric).
   */
  #decode(record: WalRecord): CommittedReading[] {
    const sensors = this.sensorsNow(record.siteId);
    return decodeRows(record.payload).map((r) => ({ sensorId: r.sensorId, metric: (sensors?.get(r.sensorId)?.metric ?? "unknown") as Metric, ts: r.ts, value: r.value }));
  }
}

function unboundedValues(values: Float64Array): { index: number; reason: string }[] {
  const rejected: { index: number; reason: string }[] = [];
  for (let i = 0; i < values.length; i++) {
    if (!isBoundedValue(values[i]!)) rejected.push({ index: i, reason: `calibrated value ${values[i]} is not finite or beyond ±${MAX_ABS_VALUE_TEXT}: check the sensor's calibration` });
  }
  return rejected;
}

/** The batch as stored: sensor ids and the calibrated values encoding computed. */
function committedReadingsOf(sensors: ReadonlyMap<string, SensorFacts>, readings: ParsedBatch["readings"], values: Float64Array): CommittedReading[] {
  return readings.map((r, i) => {
    const sensor = sensors.get(r.sensor)!;
    return { sensorId: sensor.id, metric: sensor.metric as Metric, ts: r.ts, value: values[i]! };
  });
}

function memoize<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
