import { eq } from "drizzle-orm";
import { queryLatest } from "../../clickhouse/analytics/latest";
import { queryHourlyTrends, querySpikes, queryStuck } from "../../clickhouse/analytics/health";
import { devices } from "../../db/schema";
import type { DeviceHealthInput } from "../../shared/schemas/analytics";
import { type AnalyticsDeps, num } from "./deps";
import { deviceStatus } from "./freshness";
import { lineUp, planOf } from "./latest";
import { siteScope, type ScopedSensor } from "./scope";

/**
 * Device health of a site: battery trend and days left, and sensors that are stuck (the same value
 * for hours), spiking (robust z-score of the last hour against their recent history) or silent.
 */

const HOUR = 3_600_000;
/** Modified z-score: 0.6745 · (x − median) / MAD; a reading above the threshold is an outlier (Iglewicz and Hoaglin). */
const MAD_SCALE = 0.6745;
/** When MAD is 0 (mostly constant history): (x − median) / (1.253314 · mean absolute deviation). */
const MEANAD_SCALE = 1.253314;
const MIN_TREND_HOURS = 3;

const sensorRef = (s: ScopedSensor) => ({ sensorId: s.id, deviceId: s.deviceId, deviceName: s.deviceName, key: s.key, metric: s.metric, unit: s.unit, plantId: s.plantId });

export function robustZ(deviation: number, mad: number, meanAbsoluteDeviation: number): number | null {
  if (mad > 0) return (MAD_SCALE * deviation) / mad;
  if (meanAbsoluteDeviation > 0) return deviation / (MEANAD_SCALE * meanAbsoluteDeviation);
  return null; // a flat history: any change at all stands out, but has no finite score
}

export async function deviceHealthOf(deps: AnalyticsDeps, siteId: string, input: DeviceHealthInput) {
  const { db, ch, now } = deps;
  const [scope, deviceRows] = await Promise.all([
    siteScope(deps, siteId),
    db
      .select({ id: devices.id, name: devices.name, lastSeenAt: devices.lastSeenAt, batteryPercent: devices.batteryPercent, interval: devices.expectedReportIntervalSeconds })
      .from(devices)
      .where(eq(devices.siteId, siteId))
      .orderBy(devices.name, devices.id),
  ]);
  const batterySensors = scope.sensors.filter((s) => s.metric === "battery");
  // A battery holding 100 % for hours is healthy, not stuck; it is judged by its trend instead.
  const measuring = scope.sensors.filter((s) => s.metric !== "battery");
  const ids = (list: ScopedSensor[]) => list.map((s) => s.id);
  // The latest values' plan: its ids for the query, its places and stale thresholds for the silent sensors.
  const plan = planOf(scope.sensors);
  const recentFrom = new Date(now.getTime() - HOUR);
  const stuckFrom = new Date(now.getTime() - input.stuckHours * HOUR);
  const [trends, stuckRows, spikeRows, latestRows] = await Promise.all([
    batterySensors.length ? queryHourlyTrends(ch, { sensorIds: ids(batterySensors), from: new Date(now.getTime() - input.batteryDays * 24 * HOUR), to: now }) : [],
    measuring.length ? queryStuck(ch, { sensorIds: ids(measuring), from: stuckFrom, to: now, minReadings: 3 }) : [],
    measuring.length
      ? querySpikes(ch, { sensorIds: ids(measuring), baselineFrom: new Date(recentFrom.getTime() - input.spikeBaselineHours * HOUR), recentFrom, to: now })
      : [],
    queryLatest(ch, plan.ids),
  ]);
  const byId = new Map(scope.sensors.map((s) => [s.id, s]));

  const trendByDevice = new Map<string, { sensorId: string; current: number; ratePerDay: number | null; daysLeft: number | null; hours: number }>();
  for (const t of trends) {
    const sensor = byId.get(t.sensor_id)!;
    const hours = num(t.hours);
    const ratePerDay = hours >= MIN_TREND_HOURS ? t.slope * 86_400 : null;
    const daysLeft = ratePerDay !== null && ratePerDay < 0 ? Math.max(0, t.current / -ratePerDay) : null;
    trendByDevice.set(sensor.deviceId, { sensorId: sensor.id, current: t.current, ratePerDay, daysLeft, hours });
  }

  const stuck = stuckRows
    // Readings spread over at least half the window: a device that just woke up is not stuck.
    .filter((r) => num(r.last) - num(r.first) >= (input.stuckHours * HOUR) / 2)
    .map((r) => ({ ...sensorRef(byId.get(r.sensor_id)!), value: r.v, readings: num(r.n), since: num(r.first) }));

  const spiking = spikeRows
    .map((r) => ({ r, z: robustZ(r.deviation, r.mad, r.meanad) }))
    .filter(({ r, z }) => (z === null ? r.deviation > 0 : z > input.spikeThreshold))
    .map(({ r, z }) => ({ ...sensorRef(byId.get(r.sensor_id)!), value: r.v, at: num(r.t_ms), median: r.median, mad: r.mad, z }));

  // Silent: stale as the latest values judge it (entry i is about scope.sensors[i]).
  const latest = lineUp(plan, latestRows, now.getTime());
  const silent = scope.sensors.flatMap((s, i) => (latest.stale[i] ? [{ ...sensorRef(s), lastReadingAt: latest.ts[i] ?? null }] : []));

  return {
    at: now.getTime(),
    devices: deviceRows.map((d) => ({
      deviceId: d.id,
      name: d.name,
      lastSeenAt: d.lastSeenAt?.getTime() ?? null,
      status: deviceStatus(d.lastSeenAt, d.interval, now),
      battery: { percent: trendByDevice.get(d.id)?.current ?? d.batteryPercent, ...trendOf(trendByDevice.get(d.id)) },
    })),
    stuck,
    spiking,
    silent,
  };
}

function trendOf(t: { ratePerDay: number | null; daysLeft: number | null; hours: number } | undefined) {
  return { ratePerDay: t?.ratePerDay ?? null, daysLeft: t?.daysLeft ?? null, hours: t?.hours ?? 0 };
}
