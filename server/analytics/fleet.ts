import { and, count, eq, ne } from "drizzle-orm";
import { queryReadingsPerHour } from "../../clickhouse/analytics/health";
import { alerts, devices, sensors } from "../../db/schema";
import { ALERT_SEVERITIES, type AlertSeverity } from "../../shared/schemas/alerts";
import { type AnalyticsDeps, num } from "./deps";
import { deviceStatus, type DeviceStatus } from "./freshness";

const HOUR = 3_600_000;

/** Whole hours ending with the current one (counted so far, so the chart's last bar grows). */
export function fleetWindow(now: Date, hours: number): { from: Date; to: Date } {
  const to = new Date(Math.floor(now.getTime() / HOUR) * HOUR + HOUR);
  return { from: new Date(to.getTime() - hours * HOUR), to };
}

/** A site at a glance: devices by freshness, open alerts by severity, readings per hour. */
export async function fleetOverviewOf(deps: AnalyticsDeps, siteId: string, input: { hours: number }) {
  const { db, ch, now } = deps;
  const [deviceRows, alertRows, sensorRows] = await Promise.all([
    db.select({ lastSeenAt: devices.lastSeenAt, interval: devices.expectedReportIntervalSeconds }).from(devices).where(eq(devices.siteId, siteId)),
    db
      .select({ severity: alerts.severity, status: alerts.status, n: count() })
      .from(alerts)
      .where(and(eq(alerts.siteId, siteId), ne(alerts.status, "resolved")))
      .groupBy(alerts.severity, alerts.status),
    db.select({ id: sensors.id }).from(sensors).where(eq(sensors.siteId, siteId)),
  ]);
  const devicesByStatus: Record<DeviceStatus, number> = { online: 0, stale: 0, offline: 0 };
  for (const d of deviceRows) devicesByStatus[deviceStatus(d.lastSeenAt, d.interval, now)]++;
  const openAlerts = Object.fromEntries(ALERT_SEVERITIES.map((s) => [s, { active: 0, acknowledged: 0 }])) as Record<AlertSeverity, { active: number; acknowledged: number }>;
  for (const a of alertRows) if (a.status !== "resolved") openAlerts[a.severity][a.status] = a.n;

  const { from, to } = fleetWindow(now, input.hours);
  const rows = sensorRows.length ? await queryReadingsPerHour(ch, { sensorIds: sensorRows.map((s) => s.id), from, to }) : [];
  const counts = new Map(rows.map((r) => [r.t * 1000, num(r.n)]));
  const readingsPerHour = Array.from({ length: input.hours }, (_, i) => {
    const t = from.getTime() + i * HOUR;
    return { t, count: counts.get(t) ?? 0 };
  });
  return {
    at: now.getTime(),
    devices: { total: deviceRows.length, ...devicesByStatus },
    sensors: sensorRows.length,
    alerts: openAlerts,
    readingsPerHour,
  };
}
