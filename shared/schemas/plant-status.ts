import { z } from "zod";
import type { Metric } from "../metrics";
import type { ThresholdSource } from "../thresholds";
import { uuidSchema } from "./accounts";

/**
 * Plant status: is this plant OK, and if not, why? One plant or a whole site in one call
 * (`plants.status`), and pushed when it changes (`live.plantStatus`). Computed by
 * server/plants/status.ts; the message helpers are here so clients can word things the same way.
 */

export const plantStatusInput = z.object({
  /** One plant; every living plant of the site when absent. */
  plantId: uuidSchema.optional(),
});

export const PLANT_STATES = ["ok", "attention", "offline", "no_data"] as const;
export type PlantState = (typeof PLANT_STATES)[number];
export type BoundSource = ThresholdSource;

export interface PlantStatusMetric {
  metric: Metric;
  sensorId: string;
  label: string;
  unit: string;
  value: number | null;
  at: Date | null;
  /** Older than the device's expected report interval allows (or never reported). */
  stale: boolean;
  min: { value: number | null; source: BoundSource };
  max: { value: number | null; source: BoundSource };
}

export interface PlantProblem {
  metric: Metric;
  sensorId: string;
  value: number;
  bound: number;
  direction: "below" | "above";
  source: BoundSource;
  /** The first reading of this excursion (after the last one back in range past the hysteresis band). */
  since: Date;
  /** "soil moisture 18 %, below 30 %" */
  message: string;
}

export interface SilentSensor {
  sensorId: string;
  deviceId: string;
  label: string;
  /** Its last reading; null when it never reported. */
  lastSeenAt: Date | null;
  /** When it turned silent: its last reading (or its creation) plus the stale threshold. */
  since: Date;
}

export interface WateringPause {
  by: "user" | "engine";
  reason: string;
  since: Date;
  until: Date | null;
}

export interface PlantStatus {
  plantId: string;
  name: string;
  /** no_data: no sensor, or none ever reported; offline: every sensor silent; attention: a problem or a silent sensor; else ok. */
  state: PlantState;
  /** Each sensor assigned to the plant: latest value against the range in force. */
  metrics: PlantStatusMetric[];
  /** What is wrong now (a value back in range, past the hysteresis band, clears its problem). */
  problems: PlantProblem[];
  /** Silent sensors. */
  offline: SilentSensor[];
  /** The lowest battery among the devices measuring or watering the plant. */
  battery: { deviceId: string; percent: number } | null;
  lastWateredAt: Date | null;
  nextWateringDue: Date | null;
  wateringPaused: WateringPause | null;
}

/** How people call each metric in a sentence. */
export const METRIC_LABELS: Record<Metric, string> = {
  soil_moisture: "soil moisture",
  temperature: "temperature",
  humidity: "humidity",
  light: "light",
  water_level: "water level",
  battery: "battery",
  ec: "EC",
  ph: "pH",
  unknown: "reading",
};

export const DLI_UNIT = "mol/m²/d";

/** A number as people read it: three significant digits below 100 (18.3, 0.85), whole above. */
export function formatNumber(value: number): string {
  return String(Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3)));
}

/** "18 %", "21.5 °C", "6.2 pH" (a unit-less value stays bare). */
export function formatValue(value: number, unit: string): string {
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

/** "soil moisture 18 %, below 30 %" */
export function problemMessage(label: string, value: number, unit: string, direction: "below" | "above", bound: number): string {
  return `${label} ${formatValue(value, unit)}, ${direction} ${formatValue(bound, unit)}`;
}
