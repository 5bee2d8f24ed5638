import { sql } from "drizzle-orm";
import type { Db } from "../../../db/client";
import { mqttDiscovered } from "../../../db/schema";
import type { Logger } from "../../platform";
import type { Recognised } from "./presets";

/**
 * Topics nobody bound, remembered so a person can adopt them: written at most once a second per
 * topic (a chatty sensor costs one upsert per second, not one per message), and at most
 * `maxPerSite` per site, so a client publishing random topics cannot fill the table.
 */

const SAMPLE_CHARS = 500;

interface Pending {
  siteId: string;
  preset: string;
  prefix: string;
  base: string;
  topic: string;
  sample: string;
  messages: number;
  firstSeenAt: number;
  lastSeenAt: number;
}

export class DiscoveryRecorder {
  #pending = new Map<string, Pending>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly db: () => Db,
    private readonly log: Logger,
    private readonly options: { intervalMs?: number; maxPerSite?: number } = {},
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), this.options.intervalMs ?? 1_000);
    this.#timer.unref?.();
  }

  record(siteId: string, recognised: Recognised, topic: string, payload: string, at: number): void {
    const key = `${siteId}\u0000${recognised.preset}\u0000${recognised.prefix}\u0000${recognised.base}`;
    const previous = this.#pending.get(key);
    const sample = payload.length > SAMPLE_CHARS ? `${payload.slice(0, SAMPLE_CHARS)}…` : payload;
    this.#pending.set(key, {
      siteId,
      preset: recognised.preset,
      prefix: recognised.prefix,
      base: recognised.base,
      // Text columns cannot hold NUL: a binary payload is shown with its NULs replaced.
      topic: topic.replaceAll("\u0000", "\ufffd"),
      sample: sample.replaceAll("\u0000", "\ufffd"),
      messages: (previous?.messages ?? 0) + 1,
      firstSeenAt: previous?.firstSeenAt ?? at,
      lastSeenAt: at,
    });
  }

  async flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#pending.size === 0) return;
    const entries = [...this.#pending.values()];
    this.#pending.clear();
    const limit = this.options.maxPerSite ?? 500;
    this.#flushing = (async () => {
      for (const e of entries) {
        try {
          // A new topic is added only while the site has room; a known one is always updated.
          await this.db().execute(sql`
            insert into ${mqttDiscovered} (site_id, preset, prefix, base, topic, sample, messages, first_seen_at, last_seen_at)
            select ${e.siteId}::uuid, ${e.preset}, ${e.prefix}, ${e.base}, ${e.topic}, ${e.sample}, ${e.messages},
                   ${new Date(e.firstSeenAt).toISOString()}::timestamptz, ${new Date(e.lastSeenAt).toISOString()}::timestamptz
            where (select count(*) from ${mqttDiscovered} where site_id = ${e.siteId}::uuid) < ${limit}
               or exists (select 1 from ${mqttDiscovered} where site_id = ${e.siteId}::uuid and preset = ${e.preset} and prefix = ${e.prefix} and base = ${e.base})
            on conflict (site_id, preset, prefix, base) do update set
              topic = excluded.topic, sample = excluded.sample,
              messages = ${mqttDiscovered}.messages + excluded.messages,
              last_seen_at = greatest(${mqttDiscovered}.last_seen_at, excluded.last_seen_at)`);
        } catch (error) {
          this.log.warn({ err: error instanceof Error ? error.message : String(error), topic: e.topic }, "recording a discovered MQTT topic failed");
        }
      }
    })().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    await this.flush();
  }
}
