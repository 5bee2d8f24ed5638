import type { EventHub, IngestLimits, Logger, Stores } from "../../platform";
import type { SiteDirectory } from "../../sites";
import { DeviceActivity } from "./device-activity";
import { GroupCommit } from "./group-commit";
import { IngestPipeline } from "./pipeline";
import { SensorKeys } from "./sensor-keys";

/**
 * The ingest pipeline: device batches (validated by ./parse.ts) → sensors (./sensor-keys.ts) →
 * encoded rows → group commit into ClickHouse → receipt, then device activity and the
 * `readings.committed` event for automation and live updates. Device activity (last seen, battery)
 * is also where the device endpoints record heartbeats (`activity.heartbeat`).
 */
export function createIngest(stores: Stores, directory: SiteDirectory, limits: IngestLimits, log: Logger, events?: EventHub) {
  const sensors = new SensorKeys(() => stores.db, directory, limits.sensorLimit);
  const groupCommit = new GroupCommit(() => stores.clickhouse, limits, log.child({ component: "ingest" }));
  const activity = new DeviceActivity(() => stores.db, log.child({ component: "device-activity" }), undefined, events);
  activity.start();
  const pipeline = new IngestPipeline(sensors, groupCommit, activity, events);
  return {
    sensors,
    groupCommit,
    activity,
    pipeline,
    /** Commits what is queued, then writes pending device activity. */
    async stop() {
      await groupCommit.drain();
      await activity.stop();
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
export { IngestSaturatedError, IngestUnavailableError } from "./group-commit";
export { parseBatch, type ParsedBatch } from "./parse";
export { SensorLimitError } from "./sensor-keys";
export type { IngestPipeline, Receipt } from "./pipeline";
export type { DeviceActivity } from "./device-activity";
