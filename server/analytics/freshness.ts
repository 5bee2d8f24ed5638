/**
 * How fresh data is, judged against the device's expected report interval.
 *
 * A reading is stale once older than STALE_AFTER_INTERVALS intervals: one missed report is
 * tolerated (radio retries, a slow batch), the second is not. A device is online while its last
 * report is within that, stale up to OFFLINE_AFTER_INTERVALS intervals, then offline (as is a
 * device that never reported).
 */
export const STALE_AFTER_INTERVALS = 2;
export const OFFLINE_AFTER_INTERVALS = 10;

/** The age in ms beyond which a reading is stale. */
export function staleAfterMs(expectedReportIntervalSeconds: number): number {
  return STALE_AFTER_INTERVALS * expectedReportIntervalSeconds * 1000;
}

export type DeviceStatus = "online" | "stale" | "offline";

export function deviceStatus(lastSeenAt: Date | null, expectedReportIntervalSeconds: number, now: Date): DeviceStatus {
  if (!lastSeenAt) return "offline";
  const age = now.getTime() - lastSeenAt.getTime();
  if (age <= staleAfterMs(expectedReportIntervalSeconds)) return "online";
  if (age <= OFFLINE_AFTER_INTERVALS * expectedReportIntervalSeconds * 1000) return "stale";
  return "offline";
}
