import type { ReadingWindow } from "../../clickhouse/analytics/windows";
import type { SensorFacts } from "../sites";

/**
 * A sensor's timeline: its readings cut into spans where the plant it was assigned to and the
 * metric it measured did not change. A plant's series, charts, figures and export read each sensor
 * only inside its spans with that plant (and, by metric, that metric), so moving a sensor, or
 * changing what it measures, changes only what it reads from then on. Pure: the spans come from
 * the site directory's facts (the sensor's assignment and metric history).
 *
 * Two rules at the open ends:
 * - Before its first assignment a sensor belonged to no plant, and its first plant gets those
 *   readings too: a sensor's first readings are nearly always taken where it is first put, by a
 *   device set up before its plant was entered (and backlogs a device sends late are dated before
 *   the sensor existed). Later gaps between assignments belong to no plant.
 * - The first metric holds from the beginning; each later one from the moment it was set.
 */

export interface Span {
  /** Epoch ms; -Infinity / Infinity at the open ends. */
  from: number;
  to: number;
  plantId: string | null;
  metric: string;
  unit: string;
}

const timelines = new WeakMap<SensorFacts, readonly Span[]>();

/** The sensor's spans in time order, covering all time. */
export function timelineOf(sensor: SensorFacts): readonly Span[] {
  let spans = timelines.get(sensor);
  if (spans) return spans;
  const assignments = [...sensor.assignments].sort((a, b) => a.from - b.from);
  const periods = [...sensor.pastMetrics].sort((a, b) => a.to - b.to);
  const cuts = new Set<number>();
  assignments.forEach((a, i) => {
    if (i > 0) cuts.add(a.from);
    if (a.to !== null) cuts.add(a.to);
  });
  for (const p of periods) cuts.add(p.to);
  const points = [-Infinity, ...[...cuts].sort((a, b) => a - b), Infinity];

  const plantAt = (t: number): string | null => {
    let plantId: string | null = null;
    assignments.forEach((a, i) => {
      const from = i === 0 ? -Infinity : a.from;
      if (t >= from && (a.to === null || t < a.to)) plantId = a.plantId;
    });
    return plantId;
  };
  const metricAt = (t: number) => periods.find((p) => t < p.to) ?? { metric: sensor.metric, unit: sensor.unit };

  const built: Span[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i]!;
    const to = points[i + 1]!;
    if (to <= from) continue;
    const plantId = plantAt(from);
    const { metric, unit } = metricAt(from);
    const last = built.at(-1);
    if (last && last.plantId === plantId && last.metric === metric && last.unit === unit) last.to = to;
    else built.push({ from, to, plantId, metric, unit });
  }
  spans = built;
  timelines.set(sensor, spans);
  return spans;
}

/** The span holding `t` (spans cover all time). */
export function spanAt(spans: readonly Span[], t: number): Span {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (spans[mid]!.from <= t) lo = mid;
    else hi = mid - 1;
  }
  return spans[lo]!;
}

export interface WindowFilter {
  plantId?: string | undefined;
  metric?: string | undefined;
  /** The range asked about, epoch ms: windows are clipped to it. */
  from: number;
  to: number;
}

/** One sensor's windows matching the filter within the range, adjacent ones joined. */
export function windowsOf(sensor: SensorFacts, filter: WindowFilter): ReadingWindow[] {
  const out: ReadingWindow[] = [];
  for (const span of timelineOf(sensor)) {
    if (filter.plantId !== undefined && span.plantId !== filter.plantId) continue;
    if (filter.metric !== undefined && span.metric !== filter.metric) continue;
    const from = Math.max(span.from, filter.from);
    const to = Math.min(span.to, filter.to);
    if (to <= from) continue;
    const last = out.at(-1);
    if (last && last.to === from) last.to = to;
    else out.push({ sensorId: sensor.id, from, to });
  }
  return out;
}

/** The windows of every sensor, in the sensors' order. */
export function windowsOfAll(sensors: readonly SensorFacts[], filter: WindowFilter): ReadingWindow[] {
  return sensors.flatMap((s) => windowsOf(s, filter));
}
