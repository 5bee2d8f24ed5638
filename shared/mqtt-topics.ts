/**
 * MQTT topic patterns as a broker matches them, and the form a binding's target is kept in: pure
 * functions shared by the server's MQTT pipeline, the site directory's binding index and any
 * client that wants to show which binding a topic would feed.
 */

/** Whether `topic` matches the subscription pattern (`+` one level, `#` the rest), as a broker would match it. */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split("/");
  const t = topic.split("/");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "#") return i > 0 || !topic.startsWith("$");
    if (i >= t.length) return false;
    if (p[i] === "+") {
      if (i === 0 && topic.startsWith("$")) return false;
      continue;
    }
    if (p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/** How specific a pattern is: exact levels count most, so `a/b/c` beats `a/+/c` beats `a/#`. */
export function topicSpecificity(pattern: string): number {
  return pattern.split("/").reduce((n, level) => n + (level === "#" ? 0 : level === "+" ? 1 : 3), 0);
}

/** A MAC as OpenMQTTGateway puts it in topics: upper case, no separators. */
export const normaliseMac = (mac: string) => mac.replaceAll(":", "").toUpperCase();

/** The key a preset binding is found by: one binding per (preset, prefix, base) in a site. */
export const bindingTargetKey = (preset: string, prefix: string, base: string) => `${preset}\u0000${prefix}\u0000${base}`;
