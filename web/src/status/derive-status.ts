import type { Metric } from "../../../shared/metrics";
import type { Outputs } from "../lib/api";
import { formatNumber, metricLabel, metricRank } from "../lib/format";

/**
 * `PlantStatus` as the API contracts define it (contracts.md, issue 22: the server will answer it
 * as `plants.status`), and its derivation from what today's procedures answer: plants.list,
 * plants.get (the thresholds in force and the plant's sensors), analytics.latest (values and
 * staleness), devices.list (battery) and wateringSafety.get (paused). Pure: no calls, no React.
 * `plant-status.ts` holds the hooks; once the server answers `plants.status`, that file switches to
 * it and this derivation goes.
 *
 * Two fields are approximations until then: a problem's `since` is the time of the reading that
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

export type PlantRow = Outputs["plants"]["list"]["items"][number];
export type PlantDetail = Outputs["plants"]["get"];
export type Latest = Outputs["analytics"]["latest"];
type Device = Outputs["devices"]["list"][number];
export type Safety = Outputs["wateringSafety"]["get"];

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

