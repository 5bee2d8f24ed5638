import type { Metric } from "../../shared/metrics";
import type { AuthenticatedDevice } from "../devices/device-auth";
import type { DeviceActivity } from "./device-activity";
import { encodeBatch } from "./encode";
import type { GroupCommit } from "./group-commit";
import type { ParsedBatch } from "./parse";
import type { SensorDirectory } from "./sensor-directory";

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
    private readonly sensors: SensorDirectory,
    private readonly commit: GroupCommit,
    private readonly activity: DeviceActivity,
  ) {}

  async ingest(device: AuthenticatedDevice, batch: ParsedBatch, receivedAt: number): Promise<Receipt> {
    const { batchId, readings } = batch;
    if (readings.length === 0) return { batchId, accepted: 0, duplicates: 0, rejected: [] };
    const known = this.commit.committedRows(device.id, batchId);
    if (known !== undefined) return { batchId, accepted: 0, duplicates: known, rejected: [] };

    const keys = new Map<string, Metric | undefined>();
    for (const r of readings) if (!keys.has(r.sensor) || r.metric) keys.set(r.sensor, r.metric ?? keys.get(r.sensor));
    const sensors = await this.sensors.resolve(device, keys);
    const encoded = encodeBatch(sensors, readings, batchId);
    const result = await this.commit.submit({
      deviceId: device.id,
      batchId,
      firstAttempt: batch.attempt === 1,
      tsv: encoded.tsv,
      rows: readings.length,
      sensorIds: encoded.sensorIds,
      minTs: encoded.minTs,
      maxTs: encoded.maxTs,
    });
    this.activity.record(device.id, receivedAt, encoded.battery);
    return { batchId, accepted: result.accepted, duplicates: result.duplicates, rejected: [] };
  }
}
