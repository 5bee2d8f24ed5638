import { batchHash, encodeBatch } from "../../../clickhouse/insert";
import type { Metric } from "../../../shared/metrics";
import type { CommittedReading, EventHub } from "../../platform";
import type { AuthenticatedDevice, SensorFacts } from "../../sites";
import type { DeviceActivity } from "./device-activity";
import type { GroupCommit } from "./group-commit";
import type { ParsedBatch } from "./parse";
import type { SensorKeys } from "./sensor-keys";

/** What a device gets back for an accepted batch. */
export interface Receipt {
  batchId: string;
  accepted: number;
  duplicates: number;
  rejected: { index: number; reason: string }[];
}

/**
 * From a validated batch to committed rows: a batch this server already committed → duplicates;
 * sensor keys → sensors (new keys become sensors); encoded here, in the request's own turn, so
 * the group-commit flush only concatenates; acknowledged after the commit.
 */
export class IngestPipeline {
  constructor(
    private readonly sensors: SensorKeys,
    private readonly commit: GroupCommit,
    private readonly activity: DeviceActivity,
    private readonly events?: EventHub,
  ) {}

  async ingest(device: AuthenticatedDevice, batch: ParsedBatch, receivedAt: number): Promise<Receipt> {
    const { batchId, readings } = batch;
    if (readings.length === 0) return { batchId, accepted: 0, duplicates: 0, rejected: [] };
    const known = this.commit.committedRows(device.id, batchId);
    if (known !== undefined) return { batchId, accepted: 0, duplicates: known, rejected: [] };

    const keys = new Map<string, Metric | undefined>();
    for (const r of readings) if (!keys.has(r.sensor) || r.metric) keys.set(r.sensor, r.metric ?? keys.get(r.sensor));
    const sensors = await this.sensors.resolve(device, keys);
    const hash = batchHash(batchId);
    const encoded = encodeBatch(sensors, readings, hash, this.commit.insertFormat);
    const result = await this.commit.submit({
      deviceId: device.id,
      batchId,
      batchHash: hash,
      firstAttempt: batch.attempt === 1,
      payload: encoded.payload,
      rows: readings.length,
      sensorIds: encoded.sensorIds,
      minTs: encoded.minTs,
      maxTs: encoded.maxTs,
    });
    this.activity.record(device.id, receivedAt, encoded.battery);
    if (result.accepted > 0 && this.events?.has("readings.committed")) {
      this.events.emit("readings.committed", {
        deviceId: device.id,
        siteId: device.siteId,
        batchId,
        committedAt: Date.now(),
        readings: memoize(() => committedReadingsOf(sensors, readings, encoded.values)),
      });
    }
    return { batchId, accepted: result.accepted, duplicates: result.duplicates, rejected: [] };
  }
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
  return () => (value ??= build());
}
