import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { devices } from "../../db/schema";
import { DEVICE_TOKEN_PREFIX, hashToken } from "../auth/tokens";

/**
 * Authenticates device tokens on the ingest hot path without a Postgres query per request.
 *
 * Bounds: a lookup result (device found, revoked, or unknown token) is cached for at most
 * `ttlMs` (default 30 s). Rotation and revocation done by this server invalidate its cache at
 * once, so on one server the old token stops working immediately; on other servers it stops
 * within `ttlMs`. Unknown tokens are cached too (negative entries), so a client hammering with a
 * bad token costs one query per `ttlMs`, and the cache holds at most `maxEntries` tokens (least
 * recently used evicted first).
 */

export interface AuthenticatedDevice {
  id: string;
  siteId: string;
  name: string;
}

export type DeviceAuthResult =
  | { ok: true; device: AuthenticatedDevice }
  | { ok: false; reason: "malformed" | "unknown" | "revoked" };

interface Entry {
  result: DeviceAuthResult;
  expiresAt: number;
}

export class DeviceAuthenticator {
  readonly ttlMs: number;
  readonly maxEntries: number;
  #entries = new Map<string, Entry>();
  #pending = new Map<string, Promise<DeviceAuthResult>>();
  /** Bumped by every invalidation: a lookup that started before it must not cache its result. */
  #generation = 0;
  /** Postgres lookups done, for tests and metrics. */
  lookups = 0;

  constructor(
    private readonly db: () => Db,
    options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  private readonly now: () => number;

  async authenticate(token: string | undefined): Promise<DeviceAuthResult> {
    if (!token || !token.startsWith(DEVICE_TOKEN_PREFIX) || token.length > 200) return { ok: false, reason: "malformed" };
    const key = hashToken(token);
    const cached = this.#entries.get(key);
    if (cached && cached.expiresAt > this.now()) {
      // Refresh recency for LRU eviction.
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached.result;
    }
    // Concurrent requests with the same token share one lookup.
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#lookup(key).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Forget every cached lookup of a device (its token was revoked or rotated, maybe on another server). */
  forgetDevice(deviceId: string): void {
    this.#generation += 1;
    for (const [key, entry] of this.#entries) if (entry.result.ok && entry.result.device.id === deviceId) this.#entries.delete(key);
  }

  /** Forget a token hash now (rotation, revocation). */
  invalidate(tokenHash: string): void {
    this.#generation += 1;
    this.#entries.delete(tokenHash);
    this.#pending.delete(tokenHash);
  }

  async #lookup(tokenHash: string): Promise<DeviceAuthResult> {
    this.lookups += 1;
    const generation = this.#generation;
    const [row] = await this.db()
      .select({ id: devices.id, siteId: devices.siteId, name: devices.name, revokedAt: devices.revokedAt })
      .from(devices)
      .where(eq(devices.tokenHash, tokenHash));
    const result: DeviceAuthResult = !row
      ? { ok: false, reason: "unknown" }
      : row.revokedAt
        ? { ok: false, reason: "revoked" }
        : { ok: true, device: { id: row.id, siteId: row.siteId, name: row.name } };
    if (generation !== this.#generation) return result;
    this.#entries.set(tokenHash, { result, expiresAt: this.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    return result;
  }
}
