import type { Metric } from "../../shared/metrics";
import { siteScope, type ScopeDeps, type ScopedSensor, type SiteScope } from "./scope";

/** Fleet-wide analytics are about every sensor of a site that measures one metric. */

const byMetric = new WeakMap<readonly ScopedSensor[], Map<string, readonly ScopedSensor[]>>();

/**
 * The site's sensors of one metric. The list is made once per version of the site's facts (the
 * site directory's sensor array is the same object until they change), so what is derived from
 * it (each sensor's place in the answer, the sensor columns) is made once too, as for the latest
 * values.
 */
export async function metricSensors(deps: ScopeDeps, siteId: string, metric: Metric): Promise<SiteScope> {
  const scope = await siteScope(deps, siteId);
  let lists = byMetric.get(scope.sensors);
  if (!lists) byMetric.set(scope.sensors, (lists = new Map()));
  let list = lists.get(metric);
  if (!list) lists.set(metric, (list = scope.sensors.filter((s) => s.metric === metric)));
  return { ...scope, sensors: list };
}
