import { bindingTargetKey, topicMatches } from "../../../shared/mqtt-topics";
import type { MqttBindingFacts, SiteFacts } from "../../sites";
import { presetFilters, recognise, type Recognised } from "./presets";

/**
 * Where a message belongs, from the site's facts (the site directory holds the bindings, indexed,
 * and reads them again whenever they change on any server): a binding of the site, or a preset's
 * topic nobody bound yet (to be discovered), or nothing.
 */

export type Route =
  | { bound: true; binding: MqttBindingFacts; recognised: Recognised | undefined; revoked: boolean }
  | { bound: false; recognised: Recognised };

export function routeOf(site: SiteFacts, topic: string): Route | undefined {
  const { mqtt } = site;
  // A revoked device is retired: its topics are still its own, but nothing of them is stored.
  const revoked = (binding: MqttBindingFacts) => site.devices.get(binding.deviceId)?.revoked !== false;
  const recognised = recognise(topic, mqtt.prefixes);
  if (recognised) {
    const binding = mqtt.byTarget.get(bindingTargetKey(recognised.preset, recognised.prefix, recognised.base));
    if (binding) return { bound: true, binding, recognised, revoked: revoked(binding) };
  }
  const generic = mqtt.generic.find((b) => topicMatches(b.base, topic));
  if (generic) return { bound: true, binding: generic, recognised: undefined, revoked: revoked(generic) };
  return recognised && recognised.kind !== "ignore" ? { bound: false, recognised } : undefined;
}

/** What to subscribe to on a broker serving this site: every preset's topics and every generic pattern. */
export function filtersOf(site: SiteFacts): string[] {
  return [...new Set([...presetFilters(site.mqtt.prefixes), ...site.mqtt.generic.map((b) => b.base)])];
}

/** The bindings of one device (commands go out through them), in the order they were made. */
export function bindingsOfDevice(site: SiteFacts, deviceId: string): MqttBindingFacts[] {
  return site.mqtt.list.filter((b) => b.deviceId === deviceId);
}
