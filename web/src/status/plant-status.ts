import { useQuery, type QueryClient } from "@tanstack/react-query";
import { api, type Outputs } from "../lib/api";
import { metricLabel, metricRank } from "../lib/format";

/**
 * Plant statuses as the server judges them (`plants.status`, server/plants/status.ts): each
 * metric against the range in force, what is wrong and since when, silent sensors, the lowest
 * battery, watering and its pause. The dashboard words nothing itself: problems arrive with their
 * message. Kept current by `live.plantStatus` (opened once per site by lib/live.ts), which pushes
 * a plant's status whenever it changes; `applyPlantStatus` writes each into the cache.
 */

type Statuses = Outputs["plants"]["status"];
export type PlantStatus = Statuses["items"][number];

/** Every living plant of the site; one plant's is under the same prefix (a mutation refreshing ["plants"] refreshes both). */
export const statusesKey = (siteId: string) => ["plants", "status", siteId] as const;
export const plantStatusKey = (siteId: string, plantId: string) => ["plants", "status", siteId, plantId] as const;
export const plantKey = (siteId: string, plantId: string) => ["plants", "get", siteId, plantId] as const;

/** The status of every living plant of the site (by name), live. */
export function usePlantStatuses(siteId: string) {
  return useQuery({ queryKey: statusesKey(siteId), queryFn: () => api.plants.status.query({ siteId }) });
}

/** One plant's status (the plant page, archived plants included) and its details. */
export function usePlantStatus(siteId: string, plantId: string): { data: PlantStatus | undefined; detail: Outputs["plants"]["get"] | undefined; error: unknown } {
  const detail = useQuery({ queryKey: plantKey(siteId, plantId), queryFn: () => api.plants.get.query({ siteId, plantId }) });
  const status = useQuery({
    queryKey: plantStatusKey(siteId, plantId),
    queryFn: () => api.plants.status.query({ siteId, plantId }),
    select: (answer) => answer.items[0],
  });
  return { data: status.data, detail: detail.data, error: detail.error ?? status.error };
}

/**
 * A status pushed by `live.plantStatus`, written where it is shown: the site's grid and the
 * plant's own page. A plant the grid does not list yet (just added or restored) makes it load again.
 */
export function applyPlantStatus(queryClient: QueryClient, siteId: string, status: PlantStatus): void {
  let listed = false;
  queryClient.setQueryData<Statuses>(statusesKey(siteId), (current) => {
    if (!current) return current;
    const i = current.items.findIndex((s) => s.plantId === status.plantId);
    if (i < 0) return current;
    listed = true;
    const items = current.items.slice();
    items[i] = status;
    return { items };
  });
  queryClient.setQueryData<Statuses>(plantStatusKey(siteId, status.plantId), (current) => (current ? { items: [status] } : current));
  if (!listed && queryClient.getQueryData(statusesKey(siteId))) {
    void queryClient.invalidateQueries({ queryKey: statusesKey(siteId), exact: true });
  }
}

export type StatusMetric = PlantStatus["metrics"][number];

/**
 * A plant's metrics as the cards and the plant page show them: what plants need most first, each
 * named by what it measures ("Soil moisture"); the sensor's own name or key ("soil1") only tells
 * apart two sensors of the same measurement.
 */
export function shownMetrics(status: PlantStatus): (StatusMetric & { name: string })[] {
  const perMetric = new Map<string, number>();
  for (const m of status.metrics) perMetric.set(m.metric, (perMetric.get(m.metric) ?? 0) + 1);
  return status.metrics
    .map((m) => ({ ...m, name: perMetric.get(m.metric)! > 1 ? `${metricLabel(m.metric)} (${m.label})` : metricLabel(m.metric) }))
    .sort((a, b) => metricRank(a.metric) - metricRank(b.metric) || a.label.localeCompare(b.label));
}
