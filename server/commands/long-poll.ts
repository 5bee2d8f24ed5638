import type { Db } from "../../db/client";
import type { EventHub } from "../platform";
import type { DeviceCommand } from "../../shared/schemas/device";
import { fetchDeviceCommands } from "./commands";

/**
 * A device's long poll: answer at once when it has open commands, otherwise hold the request
 * until a command is queued for it (on any server: the change relay turns Postgres NOTIFY into
 * `command.changed`), the wait runs out, the device hangs up, or the server stops. A slow safety
 * poll covers the moments the relay cannot: before it has started LISTENing, or while its
 * connection is re-established after a database restart.
 */

export const MAX_WAIT_SECONDS = 30;
export const SAFETY_POLL_MS = 5_000;

export interface LongPoll {
  db: () => Db;
  events: EventHub;
  now: () => Date;
  deviceId: string;
  waitMs: number;
  /** Aborted when the device disconnects or the server shuts down: answer (empty) at once. */
  signal: AbortSignal;
  safetyPollMs?: number;
}

export async function longPollCommands(poll: LongPoll): Promise<DeviceCommand[]> {
  const deadline = Date.now() + poll.waitMs;
  let woken = false;
  let wake = () => {};
  const stopListening = poll.events.on("command.changed", (change) => {
    // Only a newly queued command can turn an empty answer into a non-empty one.
    if (change.deviceId === poll.deviceId && change.status === "pending") {
      woken = true;
      wake();
    }
  });
  const onAbort = () => wake();
  poll.signal.addEventListener("abort", onAbort);
  try {
    for (;;) {
      woken = false;
      const commands = await fetchDeviceCommands(poll.db(), poll.deviceId, poll.now());
      const left = deadline - Date.now();
      if (commands.length > 0 || left <= 0 || poll.signal.aborted) return commands;
      // A command queued while we were fetching must not wait for the safety poll.
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, poll.safetyPollMs ?? SAFETY_POLL_MS));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = () => {};
    }
  } finally {
    stopListening();
    poll.signal.removeEventListener("abort", onAbort);
  }
}
