import type { Metric } from "../../shared/metrics";
import { siteScope, type ScopeDeps, type ScopedSensor, type SiteScope } from "./scope";

/** Fleet-wide analytics are about every sensor of a site that measures one metric. */

const byMetric = new WeakMap<ScopedSensor[], Map<string, ScopedSensor[]>>();

/**
 * The site's sensors of one metric. The list is made once per scope-cache entry (whose sensor
 * array is the same object for its few seconds), so what is derived from it (each sensor's place
 * in the answer, the sensor columns' JSON) is made once too, as for the latest values.
 */
export async function metricSensors(deps: ScopeDeps, siteId: string, metric: Metric): Promise<SiteScope> {
  const scope = await siteScope(deps, siteId);
  let lists = byMetric.get(scope.sensors);
  if (!lists) byMetric.set(scope.sensors, (lists = new Map()));
  let list = lists.get(metric);
  if (!list) lists.set(metric, (list = scope.sensors.filter((s) => s.metric === metric)));
  return { ...scope, sensors: list };
}
