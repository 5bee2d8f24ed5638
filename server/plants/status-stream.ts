import type { PlantStatus } from "../../shared/schemas/plant-status";
import type { EventHub } from "../platform";
import type { StatusAnswer } from "./status";

/**
 * Plant statuses as a stream: the current status of each plant first, then a plant's status each
 * time it changes. Recomputed when something that can change it happens on this site — readings
 * stored in ClickHouse (where the status reads them: on their acknowledgement they are only in the
 * write-ahead log), an alert or a command changed, a device heard from, the site's facts changed — at
 * most once per `intervalMs`, and by time alone when the last answer said when (a value turning
 * stale, a pause running out); a status equal to the one last sent is not sent again. A slow safety
 * net (`maxIntervalMs`) catches what no event announces, such as a watering recorded on another server.
 */

export interface StatusStreamOptions {
  events: EventHub;
  siteId: string;
  compute: () => Promise<StatusAnswer>;
  now: () => Date;
  intervalMs: number;
  maxIntervalMs?: number;
  signal: AbortSignal;
}

export async function* statusChanges(options: StatusStreamOptions): AsyncGenerator<PlantStatus> {
  const { events, siteId, signal } = options;
  const maxIntervalMs = options.maxIntervalMs ?? 30_000;
  let dirty = true;
  let wake = () => {};
  const changed = () => {
    dirty = true;
    wake();
  };
  const ours = (event: { siteId: string | null }) => event.siteId === siteId;
  const unsubscribe = [
    events.on("readings.stored", (e) => void (ours(e) && changed())),
    events.on("alert.changed", (e) => void (ours(e) && changed())),
    events.on("command.changed", (e) => void (ours(e) && changed())),
    events.on("device.seen", (e) => void (ours(e) && changed())),
    events.on("site.changed", (e) => void ((e.siteId === null || ours(e)) && changed())),
  ];
  const onAbort = () => wake();
  signal.addEventListener("abort", onAbort);
  /** Resolves after `ms`, or at once on abort, or (with `early`) when something changed. */
  const pause = (ms: number, early: boolean) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      wake = () => {
        if (signal.aborted || early) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
  const sent = new Map<string, string>();
  let lastRun = -Infinity;
  try {
    while (!signal.aborted) {
      // Coalesce: a burst of batches costs one computation per interval.
      await pause(lastRun + options.intervalMs - performance.now(), false);
      if (signal.aborted) break;
      dirty = false;
      lastRun = performance.now();
      const answer = await options.compute();
      for (const status of answer.items) {
        const key = JSON.stringify(status);
        if (sent.get(status.plantId) === key) continue;
        sent.set(status.plantId, key);
        yield status;
      }
      if (dirty) continue;
      const byTime = answer.nextChangeAt === null ? maxIntervalMs : Math.min(maxIntervalMs, answer.nextChangeAt - options.now().getTime());
      await pause(byTime, true);
    }
  } finally {
    for (const off of unsubscribe) off();
    signal.removeEventListener("abort", onAbort);
  }
}
