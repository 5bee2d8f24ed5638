import { applyCalibration, type Metric } from "../../shared/metrics";
import type { AuthenticatedDevice } from "../devices/device-auth";
import type { DeviceActivity } from "./device-activity";
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
 * From a validated batch to committed rows: known batch → duplicates; sensor keys → sensors
 * (new keys become sensors); calibration applied, raw value kept; TSV encoded here, in the
 * request's own turn, so the group-commit flush only concatenates.
 */
export class IngestPipeline {
  constructor(
    private readonly sensors: SensorDirectory,
    private readonly commit: GroupCommit,
    private readonly activity: DeviceActivity,
  ) {}

  async ingest(device: AuthenticatedDevice, batch: ParsedBatch, receivedAt: number): Promise<Receipt> {
    const { batchId, readings } = batch;
    const known = this.commit.committedRows(device.id, batchId);
    if (known !== undefined) return { batchId, accepted: 0, duplicates: known, rejected: [] };

    const keys = new Map<string, Metric | undefined>();
    for (const r of readings) if (!keys.has(r.sensor) || r.metric) keys.set(r.sensor, r.metric ?? keys.get(r.sensor));
    const sensors = await this.sensors.resolve(device, keys);

    // Per sensor, the constant head of its rows; per batch, the constant tail.
    const heads = new Map<string, string>();
    for (const [key, s] of sensors) {
      if (keys.has(key)) heads.set(key, `${device.siteId}\t${device.id}\t${s.id}\t${s.metric}\t`);
    }
    const tail = `\t${batchId}\t${receivedAt}\n`;
    let tsv = "";
    let battery: number | undefined;
    let batteryTs = -Infinity;
    for (const r of readings) {
      const sensor = sensors.get(r.sensor)!;
      const value = applyCalibration(r.value, sensor.calibration);
      tsv += heads.get(r.sensor)! + r.ts + "\t" + value + "\t" + r.value + tail;
      if (sensor.metric === "battery" && r.ts >= batteryTs) {
        battery = value;
        batteryTs = r.ts;
      }
    }
    const result = await this.commit.submit({ deviceId: device.id, batchId, tsv, rows: readings.length });
    this.activity.record(device.id, receivedAt, battery);
    return { batchId, accepted: result.accepted, duplicates: result.duplicates, rejected: [] };
  }
}
