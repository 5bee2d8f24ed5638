import { applyCalibration } from "../../shared/metrics";
import type { ParsedReading } from "./parse";
import type { SensorInfo } from "./sensor-directory";

export interface EncodedBatch {
  /** Rows as TabSeparated, in group-commit's INSERT_COLUMNS order. */
  tsv: string;
  sensorIds: string[];
  minTs: number;
  maxTs: number;
  /** The newest battery reading, if the batch has one. */
  battery: number | undefined;
}

/**
 * Encodes a batch for ClickHouse: calibration applied, raw value kept. TabSeparated measured
 * faster than JSONEachRow here; batch ids, keys and metrics are validated to contain no tabs,
 * newlines or backslashes, and numbers print as plain decimals or exponents, so no escaping is
 * needed. Per sensor the constant head of its rows is built once, per batch the constant tail.
 */
export function encodeBatch(sensors: Map<string, SensorInfo>, readings: ParsedReading[], batchId: string): EncodedBatch {
  const heads = new Map<string, { head: string; sensor: SensorInfo }>();
  const tail = `\t${batchId}\n`;
  let tsv = "";
  let battery: number | undefined;
  let batteryTs = -Infinity;
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (const r of readings) {
    let entry = heads.get(r.sensor);
    if (!entry) {
      const sensor = sensors.get(r.sensor)!;
      entry = { head: `${sensor.id}\t${sensor.metric}\t`, sensor };
      heads.set(r.sensor, entry);
    }
    const value = applyCalibration(r.value, entry.sensor.calibration);
    tsv += entry.head + r.ts + "\t" + value + "\t" + r.value + tail;
    if (r.ts < minTs) minTs = r.ts;
    if (r.ts > maxTs) maxTs = r.ts;
    if (entry.sensor.metric === "battery" && r.ts >= batteryTs) {
      battery = value;
      batteryTs = r.ts;
    }
  }
  return { tsv, sensorIds: [...heads.values()].map((e) => e.sensor.id), minTs, maxTs, battery };
}
