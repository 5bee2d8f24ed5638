import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import type { SiteRole } from "../../shared/schemas/accounts";
import { CHANGES_CHANNEL, DEVICE_TOKEN_PREFIX, type EventHub, hashToken } from "../platform";
import { loadSiteFacts, siteOfToken, withCreatedSensors, type SensorRow, type SiteFacts } from "./facts";

/**
 * The site directory: the one cache of site facts (time zone, members and roles, devices and their
 * token hashes, sensors with calibration and plant, plants with their ranges in force, actuators,
 * enabled rules, MQTT bindings), read by auth, ingest, analytics, automation and MQTT alike, so none of them asks
 * Postgres for configuration on its hot path (architecture decisions 5 and 10).
 *
 * Kept current by change events, not by expiry: triggers on the tables these facts come from send
 * a NOTIFY in the writing transaction (db/migrations, "site change events"), every server LISTENs
 * (server/platform/changes.ts) and marks the site stale; the next reader loads it again. So a change
 * made on any server, by the API, by ingest or by hand in psql, is seen by every server once its
 * notification arrives: milliseconds, well under a second. Two safety nets: when the listening
 * connection is re-established everything is marked stale (notifications may have been missed
 * while it was down), and a site is re-read at the latest `maxAgeMs` after it was loaded.
 *
 * A server also sees its own writes at once: `settle()` sends a marker notification after the
 * write committed and waits for it to come back; notifications arrive in commit order, so by then
 * the write's own notifications have been applied (the tRPC core settles after every mutation).
 */

export type DeviceAuthResult =
  | { ok: true; device: AuthenticatedDevice }
  | { ok: false; reason: "malformed" | "unknown" | "revoked" };

export interface AuthenticatedDevice {
  id: string;
  siteId: string;
  name: string;
}

interface Entry {
  facts: SiteFacts | undefined;
  loading: Promise<SiteFacts | undefined> | undefined;
  stale: boolean;
  loadedAt: number;
}

export interface DirectoryOptions {
  /** Re-read a site this long after loading it even without a change event (a lost notification). */
  maxAgeMs?: number;
  /** Sites kept at most; the least recently used goes first. */
  maxSites?: number;
  /** How long `settle()` waits for its marker before giving up and forgetting everything. */
  settleTimeoutMs?: number;
}

export class SiteDirectory {
  readonly maxAgeMs: number;
  readonly maxSites: number;
  readonly settleTimeoutMs: number;
  #entries = new Map<string, Entry>();
  /** token hash → device id and site, for the sites loaded. */
  #tokens = new Map<string, { deviceId: string; siteId: string }>();
  /** Hashes Postgres knows no device for, briefly (a client retrying a bad token costs one query a minute). */
  #unknownTokens = new Map<string, number>();
  #pendingTokens = new Map<string, Promise<DeviceAuthResult>>();
  #barriers = new Map<string, () => void>();
  /** Ids of sensors this server is inserting right now (createSensors). */
  #creating = new Set<string>();
  #listening = false;
  #unsubscribe: (() => void)[] = [];
  /** Site loads from Postgres so far, for tests and metrics. */
  loads = 0;
  /** Token lookups that had to ask Postgres. */
  tokenLookups = 0;

  constructor(
    private readonly db: () => Db,
    options: DirectoryOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.maxSites = options.maxSites ?? 10_000;
    this.settleTimeoutMs = options.settleTimeoutMs ?? 2_000;
  }

  /** Follows the change events the NOTIFY relay puts on this server's hub. */
  listen(events: EventHub): () => void {
    this.#listening = true;
    this.#unsubscribe.push(
      events.on("site.changed", ({ siteId, sensorsCreated }) => (siteId === null ? this.forgetAll() : this.changed(siteId, sensorsCreated))),
      events.on("changes.barrier", ({ id }) => this.#barriers.get(id)?.()),
    );
    return () => {
      this.#listening = false;
      for (const off of this.#unsubscribe.splice(0)) off();
    };
  }

  /** The site's facts, or undefined when there is no such site. */
  site(siteId: string): Promise<SiteFacts | undefined> {
    const entry = this.#entries.get(siteId);
    if (entry) {
      if (entry.loading) return entry.loading;
      if (entry.facts && !entry.stale && performance.now() - entry.loadedAt < this.maxAgeMs) {
        // Recently used last: eviction takes the oldest.
        this.#entries.delete(siteId);
        this.#entries.set(siteId, entry);
        return Promise.resolve(entry.facts);
      }
    }
    return this.#load(siteId, entry);
  }

  /** The site's facts if they are loaded (possibly stale), without reading Postgres. */
  loaded(siteId: string): SiteFacts | undefined {
    return this.#entries.get(siteId)?.facts;
  }

  /** Reads the site again now (after this server wrote what the next step must see, e.g. new sensors). */
  refresh(siteId: string): Promise<SiteFacts | undefined> {
    const entry = this.#entries.get(siteId);
    if (entry) entry.stale = true;
    return entry?.loading ? entry.loading.then(() => this.site(siteId)) : this.#load(siteId, entry);
  }

  /** The caller's role in the site, or undefined when they are not a member (or there is no site). */
  async role(siteId: string, userId: string): Promise<SiteRole | undefined> {
    return (await this.site(siteId))?.members.get(userId);
  }

  /** Who a device token belongs to. Unknown, malformed and revoked tokens say which. */
  authenticate(token: string | undefined): Promise<DeviceAuthResult> {
    if (!token || !token.startsWith(DEVICE_TOKEN_PREFIX) || token.length > 200) return Promise.resolve({ ok: false, reason: "malformed" });
    const hash = hashToken(token);
    const known = this.#tokens.get(hash);
    if (known) return this.#deviceResult(known.siteId, hash);
    const unknownUntil = this.#unknownTokens.get(hash);
    if (unknownUntil !== undefined && unknownUntil > performance.now()) return Promise.resolve({ ok: false, reason: "unknown" });
    // Concurrent requests with the same new token share one lookup.
    let pending = this.#pendingTokens.get(hash);
    if (!pending) {
      pending = this.#lookupToken(hash).finally(() => this.#pendingTokens.delete(hash));
      this.#pendingTokens.set(hash, pending);
    }
    return pending;
  }

  /**
   * A site's facts changed (a change event): its next reader loads it again. Unless the change was
   * only the creation of sensors this server knows already, or is creating itself (see
   * `createSensors`); a load in flight may have begun before they existed, so then it counts.
   */
  changed(siteId: string, sensorsCreated?: readonly string[]): void {
    const entry = this.#entries.get(siteId);
    if (!entry) return;
    const facts = entry.facts;
    const known = sensorsCreated && facts && !entry.loading && sensorsCreated.every((id) => facts.sensors.has(id) || this.#creating.has(id));
    if (!known) entry.stale = true;
  }

  /**
   * Creates sensors (new, without a plant: what ingest creates) with `insert`, which must give them
   * these ids, and adds them to this server's facts of the site at once instead of reading the whole
   * site again; their change event, which may come back before `insert` resolves, is then known. If
   * the facts are not current, or `insert` created fewer rows (another server was first), the site
   * is read again, as `refresh` does.
   */
  async createSensors(siteId: string, ids: readonly string[], insert: () => Promise<readonly SensorRow[]>): Promise<SiteFacts | undefined> {
    for (const id of ids) this.#creating.add(id);
    let rows: readonly SensorRow[];
    try {
      rows = await insert();
    } finally {
      for (const id of ids) this.#creating.delete(id);
    }
    const entry = this.#entries.get(siteId);
    const complete = rows.length === ids.length && rows.every((row) => row.siteId === siteId && row.plantId === null && ids.includes(row.id));
    if (!complete || !entry?.facts || entry.loading || entry.stale) return this.refresh(siteId);
    entry.facts = withCreatedSensors(entry.facts, rows);
    return entry.facts;
  }

  /** Everything is stale (the listening connection was re-established, or a catalog changed). */
  forgetAll(): void {
    for (const entry of this.#entries.values()) entry.stale = true;
    this.#unknownTokens.clear();
  }

  /**
   * Resolves once this server has applied the change events of every write committed before the
   * call. Without a running relay (a CLI, a test without background services) it forgets everything.
   */
  async settle(): Promise<void> {
    if (!this.#listening) return this.forgetAll();
    const id = randomUUID();
    const arrived = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.settleTimeoutMs);
      this.#barriers.set(id, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    try {
      await this.db().execute(sql`select pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify({ kind: "barrier", id })})`);
      if (!(await arrived)) this.forgetAll();
    } finally {
      this.#barriers.delete(id);
    }
  }

  async #deviceResult(siteId: string, hash: string): Promise<DeviceAuthResult> {
    const site = await this.site(siteId);
    const device = site?.devicesByToken.get(hash);
    if (!device) return { ok: false, reason: "unknown" };
    return device.revoked ? { ok: false, reason: "revoked" } : { ok: true, device: { id: device.id, siteId: device.siteId, name: device.name } };
  }

  async #lookupToken(hash: string): Promise<DeviceAuthResult> {
    this.tokenLookups++;
    const siteId = await siteOfToken(this.db(), hash);
    if (!siteId) {
      if (this.#unknownTokens.size >= 10_000) this.#unknownTokens.clear();
      this.#unknownTokens.set(hash, performance.now() + 60_000);
      return { ok: false, reason: "unknown" };
    }
    return this.#deviceResult(siteId, hash);
  }

  #load(siteId: string, existing: Entry | undefined): Promise<SiteFacts | undefined> {
    const entry: Entry = existing ?? { facts: undefined, loading: undefined, stale: false, loadedAt: 0 };
    // A change event that arrives while loading marks the entry stale again: the next reader reloads.
    entry.stale = false;
    this.loads++;
    const loading = loadSiteFacts(this.db(), siteId).then(
      (facts) => {
        if (entry.loading === loading) entry.loading = undefined;
        this.#unindex(entry.facts);
        entry.facts = facts;
        entry.loadedAt = performance.now();
        if (!facts) this.#entries.delete(siteId);
        else this.#index(facts);
        return facts;
      },
      (error: unknown) => {
        if (entry.loading === loading) entry.loading = undefined;
        entry.stale = true;
        throw error;
      },
    );
    entry.loading = loading;
    this.#entries.delete(siteId);
    this.#entries.set(siteId, entry);
    this.#evict();
    return loading;
  }

  #index(facts: SiteFacts): void {
    for (const device of facts.devices.values()) {
      this.#tokens.set(device.tokenHash, { deviceId: device.id, siteId: facts.id });
      this.#unknownTokens.delete(device.tokenHash);
    }
  }

  #unindex(facts: SiteFacts | undefined): void {
    if (!facts) return;
    for (const device of facts.devices.values()) {
      if (this.#tokens.get(device.tokenHash)?.siteId === facts.id) this.#tokens.delete(device.tokenHash);
    }
  }

  #evict(): void {
    while (this.#entries.size > this.maxSites) {
      const [siteId, entry] = this.#entries.entries().next().value!;
      if (entry.loading) break;
      this.#unindex(entry.facts);
      this.#entries.delete(siteId);
    }
  }
}
