import type { IngestLimits } from "../config";
import type { EventHub } from "../events/hub";
import type { Logger } from "../logger";
import type { Stores } from "../stores";
import { DeviceActivity } from "./device-activity";
import { GroupCommit } from "./group-commit";
import { IngestPipeline } from "./pipeline";
import { SensorDirectory } from "./sensor-directory";

/** The ingest pipeline's parts, wired to the stores, with one stop for shutdown. */
export function createIngest(stores: Stores, limits: IngestLimits, log: Logger, events?: EventHub) {
  const sensors = new SensorDirectory(() => stores.db, { sensorLimit: limits.sensorLimit });
  const groupCommit = new GroupCommit(() => stores.clickhouse, limits, log.child({ component: "ingest" }));
  const activity = new DeviceActivity(() => stores.db, log.child({ component: "device-activity" }));
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
