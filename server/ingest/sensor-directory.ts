import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { sensors } from "../../db/schema";
import { inferMetric, METRIC_UNITS, type Calibration, type Metric } from "../../shared/metrics";
import type { AuthenticatedDevice } from "../devices/device-auth";

/**
 * Sensor key → sensor (id, metric, calibration) per device, cached so ingest does not ask
 * Postgres per request. A key the device has not used before becomes a new, unassigned sensor
 * (metric from the reading, else inferred from the key), up to the per-device limit.
 *
 * Bounds: a device's sensors are re-read at most every `ttlMs` (default 10 s) while it reports,
 * so a calibration changed on another server applies within that; changes through this server
 * call invalidateDevice() and apply to the next batch.
 */

export interface SensorInfo {
  id: string;
  metric: string;
  calibration: Calibration | null;
}

export class SensorLimitError extends Error {
  override name = "SensorLimitError";
}

interface DeviceSensors {
  byKey: Map<string, SensorInfo>;
  loadedAt: number;
}

export class SensorDirectory {
  #devices = new Map<string, DeviceSensors>();
  /** One load-or-create at a time per device, so the limit holds under concurrent batches. */
  #locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: () => Db,
    private readonly options: { sensorLimit: number; ttlMs?: number; now?: () => number },
  ) {}

  private get ttlMs() {
    return this.options.ttlMs ?? 10_000;
  }

  private now() {
    return (this.options.now ?? Date.now)();
  }

  /** The sensors for `keys` (key → metric hint from the readings), creating missing ones. */
  async resolve(device: AuthenticatedDevice, keys: Map<string, Metric | undefined>): Promise<Map<string, SensorInfo>> {
    const cached = this.#devices.get(device.id);
    if (cached && this.now() - cached.loadedAt < this.ttlMs && allPresent(cached.byKey, keys)) return cached.byKey;
    return this.#withLock(device.id, async () => {
      let entry = this.#devices.get(device.id);
      if (!entry || this.now() - entry.loadedAt >= this.ttlMs || !allPresent(entry.byKey, keys)) {
        entry = await this.#load(device.id);
      }
      const missing = [...keys].filter(([key]) => !entry!.byKey.has(key));
      if (missing.length === 0) return entry.byKey;
      if (entry.byKey.size + missing.length > this.options.sensorLimit) {
        throw new SensorLimitError(
          `device would have ${entry.byKey.size + missing.length} sensors; the limit is ${this.options.sensorLimit} (new keys: ${missing
            .map(([k]) => k)
            .slice(0, 10)
            .join(", ")})`,
        );
      }
      await this.db()
        .insert(sensors)
        .values(
          missing.map(([key, hint]) => {
            const metric = hint ?? inferMetric(key);
            return { siteId: device.siteId, deviceId: device.id, key, metric, unit: METRIC_UNITS[metric] };
          }),
        )
        .onConflictDoNothing();
      entry = await this.#load(device.id);
      return entry.byKey;
    });
  }

  invalidateDevice(deviceId: string): void {
    this.#devices.delete(deviceId);
  }

  async #load(deviceId: string): Promise<DeviceSensors> {
    const rows = await this.db()
      .select({
        id: sensors.id,
        key: sensors.key,
        metric: sensors.metric,
        rawLow: sensors.calibrationRawLow,
        valueLow: sensors.calibrationValueLow,
        rawHigh: sensors.calibrationRawHigh,
        valueHigh: sensors.calibrationValueHigh,
      })
      .from(sensors)
      .where(eq(sensors.deviceId, deviceId));
    const byKey = new Map<string, SensorInfo>();
    for (const r of rows) {
      const calibrated = r.rawLow !== null && r.valueLow !== null && r.rawHigh !== null && r.valueHigh !== null && r.rawHigh !== r.rawLow;
      byKey.set(r.key, {
        id: r.id,
        metric: r.metric,
        calibration: calibrated ? { rawLow: r.rawLow!, valueLow: r.valueLow!, rawHigh: r.rawHigh!, valueHigh: r.valueHigh! } : null,
      });
    }
    const entry = { byKey, loadedAt: this.now() };
    this.#devices.set(deviceId, entry);
    return entry;
  }

  async #withLock<T>(deviceId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(deviceId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => {});
    this.#locks.set(deviceId, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(deviceId) === settled) this.#locks.delete(deviceId);
    }
  }
}

function allPresent(byKey: Map<string, SensorInfo>, keys: Map<string, unknown>): boolean {
  for (const key of keys.keys()) if (!byKey.has(key)) return false;
  return true;
}
