import type { Db } from "../../db/client";
import { dueForRenewal, validateSessionToken, type SessionUser, type ValidSession } from "./sessions";
import { hashToken } from "../platform";

/**
 * Who is signed in, kept a few seconds. Every signed-in call needs it; looking it up in Postgres
 * costs about a millisecond per call, as much as a small chart's whole ClickHouse query, and a
 * dashboard asks many times a minute. (Roles in sites are site facts: the site directory has them.)
 *
 * Staleness is bounded twice:
 * - Everything that takes access away (sign-out, sign-out everywhere, a password change)
 *   announces it through Postgres NOTIFY (`announceAccessChange`); every server, this one
 *   included, clears its cache when it hears it (and a mutation waits for its own announcements).
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

export class SessionCache {
  static readonly TTL_MS = 10_000;
  static readonly MAX_ENTRIES = 50_000;
  #sessions = new Map<string, SessionEntry>();
  /** Bumped by every clear: a lookup that started before it must not cache what it read. */
  #generation = 0;
  /** Postgres lookups done, for tests. */
  lookups = 0;

  /** The session of a token and its user, or null when the token is unknown or expired. */
  async session(db: Db, token: string, now: Date): Promise<{ session: ValidSession; user: SessionUser } | null> {
    const key = hashToken(token);
    const hit = this.#sessions.get(key);
    // Expired, or due for renewal: Postgres decides (deletes it, or pushes its expiry forward).
    if (hit && performance.now() - hit.cachedAt < SessionCache.TTL_MS && !dueForRenewal(hit.session.expiresAt, now)) {
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

  clear(): void {
    this.#generation += 1;
    this.#sessions.clear();
  }

  #remember<T>(map: Map<string, T>, key: string, entry: T): void {
    // Bounded: past the cap the whole map starts over (entries are cheap to read again).
    if (map.size >= SessionCache.MAX_ENTRIES) map.clear();
    map.set(key, entry);
  }
}

const caches = new WeakMap<object, SessionCache>();
/** The session cache of one server (keyed by its stores, so test servers in one process never share one). */
export function sessionCacheOf(owner: object): SessionCache {
  let cache = caches.get(owner);
  if (!cache) caches.set(owner, (cache = new SessionCache()));
  return cache;
}
