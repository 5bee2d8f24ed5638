import { useQueries, useQuery, type UseQueryResult } from "@tanstack/react-query";
import { useMemo } from "react";
import { allPages, api } from "../lib/api";
import { latestKey } from "../lib/live";
import { derivePlantStatuses, type PlantDetail, type PlantStatus, type Safety } from "./derive-status";

export type { PlantStatus } from "./derive-status";

/**
 * The one place the dashboard gets plant statuses: `usePlantStatuses(siteId)` answers what
 * `plants.status({ siteId })` will (contracts.md, issue 22), derived for now in the browser
 * (./derive-status.ts). When the server answers `plants.status` (and `live.plantStatus`), this
 * file changes to ask it; the cards and the plant page keep their code.
 */

export const plantsListKey = (siteId: string) => ["plants", "list", siteId] as const;
export const plantKey = (siteId: string, plantId: string) => ["plants", "get", siteId, plantId] as const;
export const safetyKey = (siteId: string, plantId: string) => ["wateringSafety", "get", siteId, plantId] as const;
export const devicesKey = (siteId: string) => ["devices", "list", siteId] as const;

export function usePlantsList(siteId: string) {
  return useQuery({
    queryKey: plantsListKey(siteId),
    queryFn: () => allPages((cursor) => api.plants.list.query({ siteId, limit: 100, cursor })),
  });
}

export function useLatest(siteId: string) {
  return useQuery({
    queryKey: latestKey(siteId),
    queryFn: () => api.analytics.latest.query({ siteId, withSensors: true }),
    // Live readings keep values current; this catches sensors going silent (staleness is judged at query time).
    refetchInterval: 60_000,
  });
}

export function useDevices(siteId: string) {
  return useQuery({ queryKey: devicesKey(siteId), queryFn: () => api.devices.list.query({ siteId }), refetchInterval: 60_000 });
}

// Module-level: React Query re-runs a stable `combine` only when a result changed.
const combineMap = <T,>(results: UseQueryResult<T>[]) => ({
  data: results.map((r) => r.data),
  pending: results.some((r) => r.isPending),
  error: results.find((r) => r.error)?.error ?? null,
});

/** The status of every living plant of the site, live. */
export function usePlantStatuses(siteId: string): { data: { items: PlantStatus[] } | undefined; isPending: boolean; error: unknown } {
  const plants = usePlantsList(siteId);
  const ids = plants.data?.map((p) => p.id) ?? [];
  const details = useQueries({
    queries: ids.map((plantId) => ({ queryKey: plantKey(siteId, plantId), queryFn: () => api.plants.get.query({ siteId, plantId }) })),
    combine: combineMap<PlantDetail>,
  });
  const safety = useQueries({
    queries: ids.map((plantId) => ({ queryKey: safetyKey(siteId, plantId), queryFn: () => api.wateringSafety.get.query({ siteId, plantId }) })),
    combine: combineMap<Safety>,
  });
  const latest = useLatest(siteId);
  const devices = useDevices(siteId);

  const data = useMemo(() => {
    if (!plants.data || !latest.data || !devices.data || details.pending) return undefined;
    const byPlant = <T extends { plantId?: string; id?: string }>(list: (T | undefined)[], key: (t: T) => string) =>
      new Map(list.filter((x): x is T => x !== undefined).map((x) => [key(x), x]));
    const items = derivePlantStatuses({
      plants: plants.data,
      details: byPlant(details.data, (d) => d.id),
      latest: latest.data,
      devices: devices.data,
      safety: byPlant(safety.data, (s) => s.plantId),
    });
    return { items };
  }, [plants.data, latest.data, devices.data, details, safety]);

  return {
    data,
    isPending: data === undefined && !(plants.error || latest.error || devices.error || details.error),
    error: plants.error ?? latest.error ?? devices.error ?? details.error ?? safety.error,
  };
}

/** One plant's status (the plant page), from the same derivation as the grid's. */
export function usePlantStatus(siteId: string, plantId: string): { data: PlantStatus | undefined; detail: PlantDetail | undefined; error: unknown } {
  const detail = useQuery({ queryKey: plantKey(siteId, plantId), queryFn: () => api.plants.get.query({ siteId, plantId }) });
  const safety = useQuery({ queryKey: safetyKey(siteId, plantId), queryFn: () => api.wateringSafety.get.query({ siteId, plantId }) });
  const latest = useLatest(siteId);
  const devices = useDevices(siteId);
  const data = useMemo(() => {
    if (!detail.data || !latest.data || !devices.data) return undefined;
    const d = detail.data;
    const row = { ...d, speciesName: d.species?.scientificName ?? null, lastWateredAt: d.watering.lastWateredAt, nextWateringDueAt: d.watering.nextDueAt };
    return derivePlantStatuses({
      plants: [row],
      details: new Map([[d.id, d]]),
      latest: latest.data,
      devices: devices.data,
      safety: new Map(safety.data ? [[d.id, safety.data]] : []),
    })[0];
  }, [detail.data, latest.data, devices.data, safety.data]);
  return { data, detail: detail.data, error: detail.error ?? latest.error ?? devices.error };
}
