import type { ConditionSpec, RuleRow } from "../../rules";
import type { DeviceFacts, PlantFacts, SensorFacts, SiteFacts } from "../../sites";
import type { ThresholdMetric } from "../../../shared/schemas/plants";

/**
 * What a rule watches, read from the site's facts (the site directory): its sensors, its devices,
 * and the condition it judges them by.
 */

/** A living plant of the site (an archived one is watched by nothing). */
export function livingPlant(site: SiteFacts, plantId: string | null): PlantFacts | undefined {
  const plant = plantId ? site.plants.get(plantId) : undefined;
  return plant && !plant.archived ? plant : undefined;
}

/** A device that may be judged: revoked devices are retired on purpose, never "offline". */
export function activeDevice(site: SiteFacts, deviceId: string | undefined): DeviceFacts | undefined {
  const device = deviceId ? site.devices.get(deviceId) : undefined;
  return device && !device.revoked ? device : undefined;
}

/** Sensors a threshold or aggregate rule watches: its sensor, or its plant's / device's sensors of the metric. */
export function sensorsOfRule(site: SiteFacts, rule: RuleRow): SensorFacts[] {
  if (rule.sensorId) {
    const sensor = site.sensors.get(rule.sensorId);
    return sensor ? [sensor] : [];
  }
  return site.sensorList.filter((s) => s.metric === rule.metric && (rule.plantId ? s.plantId === rule.plantId : s.deviceId === rule.deviceId));
}

/**
 * Devices a battery or offline rule watches: its device, its sensor's device, or the devices
 * measuring or watering its plant (a pump controller that dies leaves the plant dry as surely as
 * a dead sensor leaves it unwatched).
 */
export function devicesOfRule(site: SiteFacts, rule: RuleRow): DeviceFacts[] {
  const ids = rule.deviceId
    ? [rule.deviceId]
    : rule.sensorId
      ? [site.sensors.get(rule.sensorId)?.deviceId]
      : [
          ...site.sensorList.filter((s) => s.plantId === rule.plantId).map((s) => s.deviceId),
          ...[...site.actuators.values()].filter((a) => a.plantId === rule.plantId).map((a) => a.deviceId),
        ];
  return [...new Set(ids)].flatMap((id) => activeDevice(site, id) ?? []);
}

/**
 * The condition of a threshold or aggregate rule, or null when the threshold comes from a plant
 * range that is not set (the rule then has nothing to compare against).
 */
export function conditionOf(site: SiteFacts, rule: RuleRow): ConditionSpec | null {
  let threshold = rule.threshold;
  if (rule.thresholdFrom === "plant_min" || rule.thresholdFrom === "plant_max") {
    const plant = livingPlant(site, rule.plantId);
    // A daily light rule compares with the plant's daily light integral range, not its lux range.
    const range = rule.kind === "daily_light" ? (plant ? { min: plant.dli.min.value, max: plant.dli.max.value } : undefined) : plant?.thresholds[rule.metric as ThresholdMetric];
    threshold = (rule.thresholdFrom === "plant_min" ? range?.min : range?.max) ?? null;
  }
  if (threshold === null || !rule.comparison) return null;
  return { comparison: rule.comparison, threshold, hysteresis: rule.hysteresis, minDurationMs: rule.minDurationSeconds * 1000 };
}
