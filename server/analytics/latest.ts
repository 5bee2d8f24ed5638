import { queryLatest } from "../../clickhouse/analytics/latest";
import type { AnalyticsDeps } from "./deps";
import { num } from "./deps";
import { isStale } from "./freshness";
import { siteScope } from "./scope";

/** The latest value of every sensor of the site (or of some plants), with its age and staleness. */
export async function latestOf(deps: AnalyticsDeps, siteId: string, input: { plantIds?: string[] | undefined }) {
  const scope = await siteScope(deps, siteId, { plantIds: input.plantIds });
  const rows = await queryLatest(deps.ch, scope.sensors.map((s) => s.id));
  const bySensor = new Map(rows.map((r) => [r.sensor_id, r]));
  const now = deps.now.getTime();
  return {
    at: now,
    items: scope.sensors.map((s) => {
      const row = bySensor.get(s.id);
      const ts = row ? num(row.t_ms) : null;
      const ageMs = ts === null ? null : now - ts;
      return {
        sensorId: s.id,
        deviceId: s.deviceId,
        deviceName: s.deviceName,
        key: s.key,
        name: s.name,
        metric: s.metric,
        unit: s.unit,
        plantId: s.plantId,
        value: row ? row.v : null,
        ts,
        ageSeconds: ageMs === null ? null : Math.round(ageMs / 1000),
        expectedReportIntervalSeconds: s.expectedReportIntervalSeconds,
        stale: isStale(ageMs, s.expectedReportIntervalSeconds),
      };
    }),
  };
}
