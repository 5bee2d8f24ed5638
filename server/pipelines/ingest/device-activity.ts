import { sql } from "drizzle-orm";
import type { Db } from "../../../db/client";
import type { EventHub, Logger } from "../../platform";

/**
 * Devices' `last_seen_at` and battery, written to Postgres at most once per device per interval
 * (default 5 s) in one UPDATE for all devices, never on a request's critical path. Readings count
 * (ingest records them); so do a device's heartbeats — polling for commands, acknowledging one,
 * checking its token — so a pump controller that only acts is seen alive too.
 */
export class DeviceActivity {
  #pending = new Map<string, { seenAt: number; battery: number | undefined }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly db: () => Db,
    private readonly log: Logger,
    private readonly intervalMs = 5_000,
    /** Where heartbeats are announced (`device.seen`), for the automation's offline rules. */
    private readonly events?: EventHub,
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.#timer.unref?.();
  }

  record(deviceId: string, seenAt: number, battery: number | undefined): void {
    const previous = this.#pending.get(deviceId);
    this.#pending.set(deviceId, {
      seenAt: Math.max(seenAt, previous?.seenAt ?? 0),
      battery: battery ?? previous?.battery,
    });
  }

  /** A device showed it is alive without readings: last seen now, coalesced like a report, and announced. */
  heartbeat(device: { id: string; siteId: string }, seenAt: number): void {
    this.record(device.id, seenAt, undefined);
    this.events?.emit("device.seen", { siteId: device.siteId, deviceId: device.id, at: seenAt });
  }

  async flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#pending.size === 0) return;
    const entries = [...this.#pending];
    this.#pending.clear();
    this.#flushing = (async () => {
      try {
        const values = sql.join(
          entries.map(([id, e]) => sql`(${id}::uuid, ${new Date(e.seenAt).toISOString()}::timestamptz, ${e.battery ?? null}::double precision)`),
          sql`, `,
        );
        await this.db().execute(sql`
          update devices set
            last_seen_at = greatest(coalesce(devices.last_seen_at, v.seen_at), v.seen_at),
            battery_percent = coalesce(v.battery, devices.battery_percent)
          from (values ${values}) as v(id, seen_at, battery)
          where devices.id = v.id`);
      } catch (error) {
        // Put them back: the next flush tries again (newer values win on merge).
        for (const [id, e] of entries) if (!this.#pending.has(id)) this.#pending.set(id, e);
        this.log.warn({ err: error instanceof Error ? error.message : String(error) }, "device activity update failed");
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
