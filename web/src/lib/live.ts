import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { applyPlantStatus } from "../status/plant-status";
import { api, type Outputs } from "./api";

/**
 * Live updates for the site on screen: one stream each for plant statuses, readings, alerts and
 * command states (server-sent events over the session cookie), opened once by the layout. Plant
 * statuses, as the server pushes them when they change, replace the cached ones (the cards and the
 * plant page); readings are written into the cached latest values (devices' sensors); pages that
 * draw more (charts, a running pump) listen here too.
 */

export type LiveReading = { sensorId: string; deviceId: string; metric: string; ts: number; value: number };
export type LiveCommand = { commandId: string; actuatorId: string; deviceId: string; status: string; detail: string | null; at: number };
export type LiveState = "connecting" | "live" | "offline";

const readingListeners = new Set<(readings: LiveReading[]) => void>();
const commandListeners = new Set<(change: LiveCommand) => void>();

export function useLiveReadings(listener: (readings: LiveReading[]) => void): void {
  useEffect(() => {
    readingListeners.add(listener);
    return () => void readingListeners.delete(listener);
  }, [listener]);
}

export function useLiveCommands(listener: (change: LiveCommand) => void): void {
  useEffect(() => {
    commandListeners.add(listener);
    return () => void commandListeners.delete(listener);
  }, [listener]);
}

export const latestKey = (siteId: string) => ["analytics", "latest", siteId] as const;
export type Latest = Outputs["analytics"]["latest"];

const places = new WeakMap<string[], Map<string, number>>();
function placeOf(ids: string[], id: string): number {
  let map = places.get(ids);
  if (!map) places.set(ids, (map = new Map(ids.map((sensorId, i) => [sensorId, i]))));
  return map.get(id) ?? -1;
}

/** Writes live readings into the cached latest values (a new object: React sees the change). */
export function applyReadings(queryClient: QueryClient, siteId: string, readings: LiveReading[]): void {
  let unknown = false;
  queryClient.setQueryData<Latest>(latestKey(siteId), (latest) => {
    if (!latest) return latest;
    const v = latest.values;
    const next = { ...v, value: v.value.slice(), ts: v.ts.slice(), ageSeconds: v.ageSeconds.slice(), stale: v.stale.slice() };
    for (const r of readings) {
      const i = placeOf(v.sensorId, r.sensorId);
      if (i < 0) {
        unknown = true;
        continue;
      }
      if ((next.ts[i] ?? -Infinity) > r.ts) continue; // never an older reading over a newer one
      next.value[i] = r.value;
      next.ts[i] = r.ts;
      next.ageSeconds[i] = Math.max(0, Math.round((Date.now() - r.ts) / 1000));
      next.stale[i] = false;
    }
    return { ...latest, values: next };
  });
  // A sensor the page does not know yet: a device reported a new key. Load what it is.
  if (unknown) {
    void queryClient.invalidateQueries({ queryKey: latestKey(siteId) });
    void queryClient.invalidateQueries({ queryKey: ["sensors"] });
  }
}

type Devices = Outputs["devices"]["list"];

/**
 * A device whose readings just arrived was seen now. The server records last-seen times in
 * coalesced writes, so a refetch could still show the previous one for a moment; the list of
 * devices (status, "last seen") follows the stream instead.
 */
function markSeen(queryClient: QueryClient, siteId: string, readings: LiveReading[]): void {
  const seen = new Set(readings.map((r) => r.deviceId));
  const now = new Date();
  queryClient.setQueryData<Devices>(["devices", "list", siteId], (devices) =>
    devices?.map((d) => (seen.has(d.id) && (!d.lastSeenAt || d.lastSeenAt < now) ? { ...d, lastSeenAt: now } : d)),
  );
}

export function useLiveSite(siteId: string): LiveState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    setState("connecting");
    const connection = {
      onConnectionStateChange: (s: { state: "idle" | "connecting" | "pending" }) =>
        setState(s.state === "pending" ? "live" : s.state === "connecting" ? "connecting" : "offline"),
      onError: () => setState("offline"),
    };
    const readings = api.live.readings.subscribe(
      { siteId },
      {
        ...connection,
        onStarted: () => setState("live"),
        onData: (message) => {
          applyReadings(queryClient, siteId, message.readings);
          markSeen(queryClient, siteId, message.readings);
          readingListeners.forEach((listener) => listener(message.readings));
        },
      },
    );
    // Each plant's current status first (also after a reconnect), then each change.
    const statuses = api.live.plantStatus.subscribe({ siteId }, { onData: (status) => applyPlantStatus(queryClient, siteId, status) });
    const alerts = api.live.alerts.subscribe(
      { siteId },
      { onData: () => void queryClient.invalidateQueries({ queryKey: ["alerts"] }) },
    );
    const commands = api.live.commands.subscribe(
      { siteId },
      {
        onData: (change) => {
          commandListeners.forEach((listener) => listener(change));
          void queryClient.invalidateQueries({ queryKey: ["commands"] });
          // A pump command's ledger entry follows it (pending → in progress → completed or failed).
          void queryClient.invalidateQueries({ queryKey: ["waterings"] });
        },
      },
    );
    return () => {
      readings.unsubscribe();
      statuses.unsubscribe();
      alerts.unsubscribe();
      commands.unsubscribe();
    };
  }, [siteId, queryClient]);
  return state;
}
