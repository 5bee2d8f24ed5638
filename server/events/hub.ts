import type { Metric } from "../../shared/metrics";
import type { Logger } from "../logger";

/**
 * In-process events between the parts of one server: ingest tells the automation and live
 * updates what it committed, without knowing who listens. Listeners run after the emitter's
 * work is done (never on a device's ack path) and a failing listener is logged, never thrown
 * back at the emitter. Events do not cross servers: whatever must survive a restart or reach
 * another server goes through Postgres.
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
  /** When the batch was committed (epoch ms), to measure how far behind listeners run. */
  committedAt: number;
  /** Built on first call and memoized: ingest pays for it only when someone listens. */
  readings(): CommittedReading[];
}

/** Automation rules of a site changed through the API: engines drop their cached copy. */
export interface AutomationChanged {
  siteId: string;
}

export interface HubEvents {
  "readings.committed": ReadingsCommitted;
  "automation.changed": AutomationChanged;
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
