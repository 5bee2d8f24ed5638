import type { Db } from "../../db/client";
import type { SiteRole } from "../../shared/schemas/accounts";
import { membershipOf } from "../sites/sites";
import { dueForRenewal, validateSessionToken, type SessionUser, type ValidSession } from "./sessions";
import { hashToken } from "./tokens";

/**
 * Who is signed in, and their role in a site, kept a few seconds. Every signed-in call needs
 * both; looking them up in Postgres costs about a millisecond per call, as much as a small chart's
 * whole ClickHouse query, and a dashboard asks many times a minute.
 *
 * Staleness is bounded twice:
 * - Everything that takes access away (sign-out, sign-out everywhere, a password change, a
 *   member's removal or new role, a deleted site) announces it through Postgres NOTIFY
 *   (`announceAccessChange`); every server, this one included, clears its cache when it hears it.
 *   Any tRPC mutation also clears this server's cache at once (server/trpc/trpc.ts).
 * - An entry is trusted for `TTL_MS` at most, in case an announcement is lost (a LISTEN connection
 *   that dropped) or the change came from outside the API.
 * A session's expiry is checked on every hit: one that expired, or is due for its sliding renewal,
 * is looked up in Postgres again, so expiry and renewal behave exactly as without the cache.
 */

interface SessionEntry {
  user: SessionUser;
  session: ValidSession;
  cachedAt: number;
}

interface MemberEntry {
  role: SiteRole | undefined;
  cachedAt: number;
}

export class AccessCache {
  static readonly TTL_MS = 10_000;
  static readonly MAX_ENTRIES = 50_000;
  #sessions = new Map<string, SessionEntry>();
  #members = new Map<string, MemberEntry>();
  /** Bumped by every clear: a lookup that started before it must not cache what it read. */
  #generation = 0;
  /** Postgres lookups done (sessions and memberships), for tests. */
  lookups = 0;

  /** The session of a token and its user, or null when the token is unknown or expired. */
  async session(db: Db, token: string, now: Date): Promise<{ session: ValidSession; user: SessionUser } | null> {
    const key = hashToken(token);
    const hit = this.#sessions.get(key);
    // Expired, or due for renewal: Postgres decides (deletes it, or pushes its expiry forward).
    if (hit && performance.now() - hit.cachedAt < AccessCache.TTL_MS && !dueForRenewal(hit.session.expiresAt, now)) {
      return { user: hit.user, session: hit.session };
    }
    const generation = this.#generation;
    this.lookups += 1;
    const found = await validateSessionToken(db, token, now);
    if (!found) {
      this.#sessions.delete(key);
      return null;
    }
    if (generation === this.#generation) {
      // Renewal was this lookup's; a hit must not ask for the cookie again.
      this.#remember(this.#sessions, key, { user: found.user, session: { ...found.session, renewed: false }, cachedAt: performance.now() });
    }
    return found;
  }

  /** The user's role in the site, or undefined when they are not a member. */
  async membership(db: Db, siteId: string, userId: string): Promise<SiteRole | undefined> {
    const key = `${siteId}:${userId}`;
    const hit = this.#members.get(key);
    if (hit && performance.now() - hit.cachedAt < AccessCache.TTL_MS) return hit.role;
    const generation = this.#generation;
    this.lookups += 1;
    const role = await membershipOf(db, siteId, userId);
    if (generation === this.#generation) this.#remember(this.#members, key, { role, cachedAt: performance.now() });
    return role;
  }

  clear(): void {
    this.#generation += 1;
    this.#sessions.clear();
    this.#members.clear();
  }

  #remember<T>(map: Map<string, T>, key: string, entry: T): void {
    // Bounded: past the cap the whole map starts over (entries are cheap to read again).
    if (map.size >= AccessCache.MAX_ENTRIES) map.clear();
    map.set(key, entry);
  }
}

const caches = new WeakMap<object, AccessCache>();
/** The access cache of one server (keyed by its stores, so test servers in one process never share one). */
export function accessCacheOf(owner: object): AccessCache {
  let cache = caches.get(owner);
  if (!cache) caches.set(owner, (cache = new AccessCache()));
  return cache;
}
