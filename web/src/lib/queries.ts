import { useQuery } from "@tanstack/react-query";
import { allPages, api } from "./api";
import { latestKey } from "./live";

/** The site-wide lists many pages share (one cache entry each, refreshed by the mutations that change them). */

export const plantsListKey = (siteId: string) => ["plants", "list", siteId] as const;
export const devicesKey = (siteId: string) => ["devices", "list", siteId] as const;

export function usePlantsList(siteId: string) {
  return useQuery({
    queryKey: plantsListKey(siteId),
    queryFn: () => allPages((cursor) => api.plants.list.query({ siteId, limit: 100, cursor })),
  });
}

/** Every sensor's latest value; live readings are written into it (lib/live.ts). */
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
