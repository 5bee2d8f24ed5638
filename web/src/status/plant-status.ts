import { useQueries, useQuery, type UseQueryResult } from "@tanstack/react-query";
import { useMemo } from "react";
import type { Metric } from "../../../shared/metrics";
import { allPages, api, type Outputs } from "../lib/api";
import { formatNumber, metricLabel, metricRank } from "../lib/format";
import { latestKey, type Latest } from "../lib/live";

/**
 * A plant's status as a card shows it: the shape of `PlantStatus` in the API contracts
 * (contracts.md, issue 22), which the server will answer as `plants.status`. Until it does, this
 * file derives it from procedures that exist today — plants.list, plants.get (the thresholds in
 * force and the plant's sensors), analytics.latest (values and staleness, kept live by the
 * readings stream), devices.list (battery, last seen) and wateringSafety.get (paused) — so
 * switching to the server's answer changes this file only: `usePlantStatuses` keeps its result.
 *
 * Until then two fields are approximations: a problem's `since` is the time of the reading that
 * shows it (the server will know when the value left the range), and a silent sensor's `since`
 * is its last reading (or its device's creation when it never reported).
 */

export type BoundSource = "plant" | "species" | "none";

export interface PlantStatus {
  plantId: string;
  name: string;
  state: "ok" | "attention" | "offline" | "no_data";
  /** Each metric with a sensor assigned: latest value against the range in force. */
  metrics: {
    metric: Metric;
    sensorId: string;
    label: string;
    unit: string;
    value: number | null;
    at: Date | null;
    stale: boolean;
    min: { value: number | null; source: BoundSource };
    max: { value: number | null; source: BoundSource };
  }[];
  /** What is wrong now (a value back in range clears its problem). */
  problems: { metric: Metric; sensorId: string; value: number; bound: number; direction: "below" | "above"; source: BoundSource; since: Date; message: string }[];
  /** Silent sensors (state "offline" when every sensor of the plant is silent). */
  offline: { sensorId: string; deviceId: string; label: string; lastSeenAt: Date | null; since: Date }[];
  /** Lowest battery among the plant's devices. */
  battery: { deviceId: string; percent: number } | null;
  lastWateredAt: Date | null;
  nextWateringDue: Date | null;
  wateringPaused: { by: "user" | "engine"; reason: string; since: Date; until: Date | null } | null;
}

type PlantRow = Outputs["plants"]["list"]["items"][number];
type PlantDetail = Outputs["plants"]["get"];
type Device = Outputs["devices"]["list"][number];
type Safety = Outputs["wateringSafety"]["get"];

const NO_BOUND = { value: null, source: "none" as const };

export interface StatusInputs {
  plants: PlantRow[];
  details: Map<string, PlantDetail>;
  latest: Latest;
  devices: Device[];
  safety: Map<string, Safety>;
}

/** The statuses of a site's plants from what the procedures of today answer (pure: no calls). */
export function derivePlantStatuses(input: StatusInputs): PlantStatus[] {
  const v = input.latest.values;
  const placeOf = new Map(v.sensorId.map((id, i) => [id, i]));
  const devices = new Map(input.devices.map((d) => [d.id, d]));
  return input.plants.map((plant) => {
    const detail = input.details.get(plant.id);
    const sensors = [...(detail?.sensors ?? [])].sort((a, b) => metricRank(a.metric) - metricRank(b.metric) || a.key.localeCompare(b.key));
    const perMetric = new Map<string, number>();
    for (const s of sensors) perMetric.set(s.metric, (perMetric.get(s.metric) ?? 0) + 1);

    const metrics: PlantStatus["metrics"] = sensors.map((s) => {
      const i = placeOf.get(s.id);
      const ts = i === undefined ? null : v.ts[i]!;
      const range = detail?.thresholds[s.metric as keyof PlantDetail["thresholds"]];
      const label = s.name ?? (perMetric.get(s.metric)! > 1 ? `${metricLabel(s.metric)} (${s.key})` : metricLabel(s.metric));
      return {
        metric: s.metric as Metric,
        sensorId: s.id,
        label,
        unit: s.unit,
        value: i === undefined ? null : v.value[i]!,
        at: ts === null ? null : new Date(ts),
        stale: i === undefined ? true : v.stale[i]!,
        min: range ? range.min : NO_BOUND,
        max: range ? range.max : NO_BOUND,
      };
    });

    const problems: PlantStatus["problems"] = [];
    for (const m of metrics) {
      // A silent sensor's old value is not what is wrong now: it is listed as offline instead.
      if (m.value === null || m.stale || !m.at) continue;
      const say = (direction: "below" | "above", bound: number) =>
        `${m.label.toLowerCase()} ${formatNumber(m.value!)}${m.unit ? ` ${m.unit}` : ""}, ${direction} ${formatNumber(bound)}${m.unit ? ` ${m.unit}` : ""}`;
      if (m.min.value !== null && m.value < m.min.value) {
        problems.push({ metric: m.metric, sensorId: m.sensorId, value: m.value, bound: m.min.value, direction: "below", source: m.min.source, since: m.at, message: say("below", m.min.value) });
      } else if (m.max.value !== null && m.value > m.max.value) {
        problems.push({ metric: m.metric, sensorId: m.sensorId, value: m.value, bound: m.max.value, direction: "above", source: m.max.source, since: m.at, message: say("above", m.max.value) });
      }
    }

    const offline: PlantStatus["offline"] = metrics
      .filter((m) => m.stale)
      .map((m) => {
        const deviceId = sensors.find((s) => s.id === m.sensorId)!.deviceId;
        return { sensorId: m.sensorId, deviceId, label: m.label, lastSeenAt: m.at, since: m.at ?? devices.get(deviceId)?.createdAt ?? new Date(0) };
      });

    let battery: PlantStatus["battery"] = null;
    for (const deviceId of new Set(sensors.map((s) => s.deviceId))) {
      const percent = devices.get(deviceId)?.batteryPercent;
      if (percent !== null && percent !== undefined && (!battery || percent < battery.percent)) battery = { deviceId, percent };
    }

    const safety = input.safety.get(plant.id);
    const wateringPaused: PlantStatus["wateringPaused"] = safety?.autoWateringPaused
      ? // Only the automation pauses today (a pump that did not raise the moisture); people resume.
        { by: "engine", reason: safety.pausedReason ?? "paused", since: safety.pausedAt ?? new Date(0), until: null }
      : null;

    const reported = metrics.some((m) => m.at !== null);
    const state: PlantStatus["state"] =
      metrics.length === 0 || !reported
        ? "no_data"
        : offline.length === metrics.length
          ? "offline"
          : problems.length > 0 || offline.length > 0 || wateringPaused
            ? "attention"
            : "ok";

    return {
      plantId: plant.id,
      name: plant.name,
      state,
      metrics,
      problems,
      offline,
      battery,
      lastWateredAt: detail?.watering.lastWateredAt ?? plant.lastWateredAt,
      nextWateringDue: detail?.watering.nextDueAt ?? plant.nextWateringDueAt,
      wateringPaused,
    };
  });
}

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
