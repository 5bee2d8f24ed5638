import type { Metric } from "../../shared/metrics";
import type { Logger } from "./logger";

/**
 * In-process events between the parts of one server: ingest tells the automation and live
 * updates what it committed, without knowing who listens. Listeners run after the emitter's
 * work is done (never on a device's ack path) and a failing listener is logged, never thrown
 * back at the emitter. The hub itself does not cross servers: whatever must survive a restart or
 * reach another server goes through Postgres — alert and command changes arrive here from every
 * server through the NOTIFY relay (./changes.ts).
 */

export interface CommittedReading {
  sensorId: string;
  metric: Metric;
  /** Epoch ms. */
  ts: number;
  /** Calibrated value, as stored in ClickHouse. */
  value: number;
}

export interface ReadingsCommitted {
  deviceId: string;
  siteId: string;
  batchId: string;
  /** When the server received the batch (epoch ms): the moment the device was last heard from. */
  receivedAt: number;
  /** When the batch was made durable (epoch ms), to measure how far behind listeners run. */
  committedAt: number;
  /** Built on first call and memoized: ingest pays for it only when someone listens. */
  readings(): CommittedReading[];
}

/** A command changed state (queued, fetched, acknowledged, finished, expired, cancelled), on any server. */
export interface CommandChanged {
  siteId: string;
  deviceId: string;
  actuatorId: string;
  commandId: string;
  status: "pending" | "sent" | "acknowledged" | "succeeded" | "failed" | "expired" | "cancelled";
  detail: string | null;
  /** When the change happened (epoch ms, the changing server's clock). */
  at: number;
}

/** An alert was raised (or fired again), acknowledged or resolved, on any server. */
export interface AlertChanged {
  siteId: string;
  alertId: string;
  /** "raised" covers a repeated occurrence too: compare `occurrences`. */
  change: "raised" | "acknowledged" | "resolved";
  rule: string;
  subject: string;
  severity: "info" | "warning" | "critical";
  status: "active" | "acknowledged" | "resolved";
  title: string;
  plantId: string | null;
  occurrences: number;
  at: number;
}

/** A device showed it is alive without sending readings: it polled for commands, acknowledged one, or checked its token. */
export interface DeviceSeen {
  siteId: string;
  deviceId: string;
  /** Epoch ms. */
  at: number;
}

/** A device said it went online or offline (an MQTT will or availability message), on any server. */
export interface DevicePresence {
  siteId: string;
  deviceId: string;
  state: "online" | "offline";
  /** When the receiving server got the message (epoch ms). */
  at: number;
}

export interface HubEvents {
  /** A batch is acknowledged (durable in the write-ahead log): not yet in ClickHouse. */
  "readings.committed": ReadingsCommitted;
  /** A batch is in ClickHouse: queries now see it (what is read from there, like plant statuses, may have changed). */
  "readings.stored": ReadingsCommitted;
  /** This server heard from a device that sent no readings (server/pipelines/ingest/device-activity.ts). */
  "device.seen": DeviceSeen;
  /** Relayed from Postgres NOTIFY (./changes.ts), so every server sees every change. */
  "command.changed": CommandChanged;
  "alert.changed": AlertChanged;
  /** Relayed from Postgres NOTIFY too: offline rules act on it at once on every server. */
  "device.presence": DevicePresence;
  /** Sessions were taken away somewhere: cached ones must be read again. */
  "access.changed": Record<string, never>;
  /**
   * A site's facts changed in Postgres (any server, any writer); siteId null: every site's.
   * `sensorsCreated`: the change was only these new sensors (see migration 0012).
   */
  "site.changed": { siteId: string | null; sensorsCreated?: string[] };
  /** A server's settle marker came back through NOTIFY (see SiteDirectory.settle). */
  "changes.barrier": { id: string };
}

type Listener<E extends keyof HubEvents> = (event: HubEvents[E]) => void | Promise<void>;

export class EventHub {
  // Typed at on/emit; stored untyped because TypeScript cannot relate a mapped entry to E.
  private readonly listeners = new Map<keyof HubEvents, Set<(event: never) => void | Promise<void>>>();

  constructor(private readonly log?: Logger) {}

  /** Subscribes; returns the unsubscribe function. */
  on<E extends keyof HubEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const entry = listener as (event: never) => void | Promise<void>;
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** Whether anyone listens: lets an emitter skip building a payload nobody reads. */
  has(event: keyof HubEvents): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  /** Calls every listener on a later microtask; their failures are logged, not thrown. */
  emit<E extends keyof HubEvents>(event: E, payload: HubEvents[E]): void {
    const set = this.listeners.get(event) as Set<Listener<E>> | undefined;
    if (!set?.size) return;
    for (const listener of [...set]) {
      queueMicrotask(() => {
        Promise.resolve()
          .then(() => listener(payload))
          .catch((error) => this.log?.error({ err: error, event }, "event listener failed"));
      });
    }
  }
}
