import { queryLatest } from "../../clickhouse/analytics/latest";
import type { LatestInput } from "../../shared/schemas/analytics";
import type { AnalyticsDeps } from "./deps";
import { isStale } from "./freshness";
import { siteScope, type ScopedSensor } from "./scope";

/** What a sensor is, for answers that ask for it (`withSensors`). */
const sensorDetails = (s: ScopedSensor) => ({
  deviceId: s.deviceId,
  deviceName: s.deviceName,
  key: s.key,
  name: s.name,
  metric: s.metric,
  unit: s.unit,
  plantId: s.plantId,
  expectedReportIntervalSeconds: s.expectedReportIntervalSeconds,
});

export interface LatestItem {
  sensorId: string;
  value: number | null;
  /** Epoch ms of the reading; null for a sensor that never reported. */
  ts: number | null;
  ageSeconds: number | null;
  stale: boolean;
  /** Only with `withSensors: true`. */
  sensor?: ReturnType<typeof sensorDetails>;
}

/**
 * The latest value of every sensor of the site (or of some plants), with its age and staleness.
 * Dashboards poll this every few seconds for values whose sensors they already know, so each item
 * is just the value; `withSensors` adds what each sensor is (a third of the answer otherwise).
 */
export async function latestOf(deps: AnalyticsDeps, siteId: string, input: LatestInput): Promise<{ at: number; items: LatestItem[] }> {
  const scope = await siteScope(deps, siteId, { plantIds: input.plantIds });
  const latest = await queryLatest(deps.ch, scope.sensors.map((s) => s.id));
  const rowOf = new Map(latest.sensor_id.map((id, row) => [id, row]));
  const now = deps.now.getTime();
  return {
    at: now,
    items: scope.sensors.map((s): LatestItem => {
      const row = rowOf.get(s.id);
      const ts = row === undefined ? null : latest.t_ms[row]!;
      const ageMs = ts === null ? null : now - ts;
      const item: LatestItem = {
        sensorId: s.id,
        value: row === undefined ? null : latest.v[row]!,
        ts,
        ageSeconds: ageMs === null ? null : Math.round(ageMs / 1000),
        stale: isStale(ageMs, s.expectedReportIntervalSeconds),
      };
      if (input.withSensors) item.sensor = sensorDetails(s);
      return item;
    }),
  };
}
