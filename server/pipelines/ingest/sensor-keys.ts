import { randomUUID } from "node:crypto";
import type { Db } from "../../../db/client";
import { sensors } from "../../../db/schema";
import { inferMetric, METRIC_UNITS, type Metric } from "../../../shared/metrics";
import { AppError } from "../../platform";
import type { AuthenticatedDevice, SensorFacts, SiteDirectory } from "../../sites";

/**
 * A batch's sensor keys → the device's sensors, from the site directory (no Postgres query while
 * the keys are known). A key the device has not used before becomes a new, unassigned sensor
 * (metric from the reading, else inferred from the key), up to the per-device limit, and is added
 * to the site's facts at once, so the batch, and every later one, finds it.
 */

/** A batch that would give its device more sensors than allowed: refused whole. */
export class SensorLimitError extends AppError {
  constructor(message: string, limit: number) {
    super("BAD_REQUEST", message, { details: { limit } });
  }
}

export class SensorKeys {
  /** One creation at a time per device, so the limit holds under concurrent batches. */
  #locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: () => Db,
    private readonly directory: SiteDirectory,
    private readonly sensorLimit: number,
  ) {}

  /** The sensors for `keys` (key → metric hint from the readings), creating missing ones. */
  async resolve(device: AuthenticatedDevice, keys: Map<string, Metric | undefined>): Promise<ReadonlyMap<string, SensorFacts>> {
    const known = (await this.directory.site(device.siteId))?.sensorsByDevice.get(device.id);
    if (known && allPresent(known, keys)) return known;
    return this.#withLock(device.id, async () => {
      const current = (await this.directory.site(device.siteId))?.sensorsByDevice.get(device.id) ?? new Map<string, SensorFacts>();
      const missing = [...keys].filter(([key]) => !current.has(key));
      if (missing.length === 0) return current;
      if (current.size + missing.length > this.sensorLimit) {
        throw new SensorLimitError(
          `device would have ${current.size + missing.length} sensors; the limit is ${this.sensorLimit} (new keys: ${missing
            .map(([k]) => k)
            .slice(0, 10)
            .join(", ")})`,
          this.sensorLimit,
        );
      }
      const rows = missing.map(([key, hint]) => {
        const metric = hint ?? inferMetric(key);
        return { id: randomUUID(), siteId: device.siteId, deviceId: device.id, key, metric, unit: METRIC_UNITS[metric] };
      });
      const facts = await this.directory.createSensors(
        device.siteId,
        rows.map((row) => row.id),
        () => this.db().insert(sensors).values(rows).onConflictDoNothing().returning(),
      );
      const fresh = facts?.sensorsByDevice.get(device.id);
      if (!fresh || !allPresent(fresh, keys)) throw new Error(`sensors of device ${device.id} not found after creating them`);
      return fresh;
    });
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

function allPresent(byKey: ReadonlyMap<string, unknown>, keys: Map<string, unknown>): boolean {
  for (const key of keys.keys()) if (!byKey.has(key)) return false;
  return true;
}
