import { METRIC_UNITS } from "./metrics";
import { THRESHOLD_METRICS, type ThresholdMetric } from "./schemas/plants";

/**
 * A plant's care ranges in force: its own overrides where it has them, else its species' ranges.
 * Pure, so the server (plants, the site directory, analytics) and the dashboard's override editor
 * compute them the same way.
 */

/** A plant's own bounds per metric, as stored (`plants.threshold_overrides`). */
export type ThresholdOverrides = Partial<Record<string, { min?: number; max?: number }>>;

/** The species' ranges, as the catalog stores them. */
export interface SpeciesRanges {
  soilMoistureMin: number;
  soilMoistureMax: number;
  temperatureMin: number;
  temperatureMax: number;
  humidityMin: number;
  humidityMax: number;
  lightLuxMin: number;
  lightLuxMax: number;
  ecMin: number;
  ecMax: number;
  /** Null when the species' pH range is not known. */
  phMin: number | null;
  phMax: number | null;
}

/** Where a threshold in force comes from: the plant's own override, its species, or nowhere. */
export type ThresholdSource = "plant" | "species" | "none";
export interface Bound {
  value: number | null;
  source: ThresholdSource;
}

type Range = [number | null, number | null];
const NO_RANGE: Range = [null, null];

/** The species' default per metric; a reservoir's water level is the equipment's, not the species'. */
const SPECIES_RANGE: Record<ThresholdMetric, (s: SpeciesRanges) => Range> = {
  soil_moisture: (s) => [s.soilMoistureMin, s.soilMoistureMax],
  temperature: (s) => [s.temperatureMin, s.temperatureMax],
  humidity: (s) => [s.humidityMin, s.humidityMax],
  light: (s) => [s.lightLuxMin, s.lightLuxMax],
  ec: (s) => [s.ecMin, s.ecMax],
  ph: (s) => [s.phMin, s.phMax],
  water_level: () => NO_RANGE,
};

/** The thresholds in force per metric, each bound saying where it comes from. */
export function effectiveThresholds(overrides: ThresholdOverrides, speciesRow: SpeciesRanges | null) {
  const bound = (own: number | undefined, inherited: number | null): Bound =>
    own !== undefined ? { value: own, source: "plant" } : inherited !== null ? { value: inherited, source: "species" } : { value: null, source: "none" };
  return Object.fromEntries(
    THRESHOLD_METRICS.map((metric) => {
      const [min, max] = speciesRow ? SPECIES_RANGE[metric](speciesRow) : NO_RANGE;
      const own = overrides[metric] ?? {};
      return [metric, { unit: METRIC_UNITS[metric], min: bound(own.min, min), max: bound(own.max, max) }];
    }),
  ) as Record<ThresholdMetric, { unit: string; min: Bound; max: Bound }>;
}

export type ThresholdsInForce = ReturnType<typeof effectiveThresholds>;
