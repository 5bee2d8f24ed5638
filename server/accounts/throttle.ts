import { inArray, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { loginThrottle } from "../../db/schema";

/**
 * Login throttling per account and per client IP. The first FREE_FAILURES failures of an account
 * (FREE_FAILURES_PER_IP of an address, which many people may share behind one NAT) cost nothing;
 * each further one blocks the key for an exponentially growing time (1 s, 2 s, 4 s … up to 15 min).
 * A key forgets its failures after an hour without one, and a successful login clears the
 * account's key (not the IP's: one good password must not unlock guessing at other accounts).
 */

export const FREE_FAILURES = 5;
export const FREE_FAILURES_PER_IP = 20;
const MAX_BLOCK_MS = 15 * 60 * 1000;
const FORGET_AFTER_MS = 60 * 60 * 1000;

export function throttleKeys(email: string, ip: string | undefined): string[] {
  return ip ? [`email:${email}`, `ip:${ip}`] : [`email:${email}`];
}

export function blockDurationMs(key: string, failures: number): number {
  const free = key.startsWith("ip:") ? FREE_FAILURES_PER_IP : FREE_FAILURES;
  if (failures < free) return 0;
  return Math.min(1000 * 2 ** (failures - free), MAX_BLOCK_MS);
}

/** Seconds to wait before another attempt is allowed, or 0. */
export async function retryAfterSeconds(db: Db, keys: string[], now: Date): Promise<number> {
  const rows = await db.select().from(loginThrottle).where(inArray(loginThrottle.key, keys));
  let waitMs = 0;
  for (const row of rows) {
    if (row.blockedUntil && row.blockedUntil.getTime() > now.getTime()) {
      waitMs = Math.max(waitMs, row.blockedUntil.getTime() - now.getTime());
    }
  }
  return Math.ceil(waitMs / 1000);
}

export async function recordFailure(db: Db, keys: string[], now: Date): Promise<void> {
  for (const key of keys) {
    const [existing] = await db.select().from(loginThrottle).where(sql`${loginThrottle.key} = ${key}`);
    const stale = !existing || now.getTime() - existing.lastFailureAt.getTime() > FORGET_AFTER_MS;
    const failures = stale ? 1 : existing.failures + 1;
    const blockMs = blockDurationMs(key, failures);
    const row = {
      key,
      failures,
      lastFailureAt: now,
      blockedUntil: blockMs > 0 ? new Date(now.getTime() + blockMs) : null,
    };
    await db
      .insert(loginThrottle)
      .values(row)
      .onConflictDoUpdate({ target: loginThrottle.key, set: { failures: row.failures, lastFailureAt: row.lastFailureAt, blockedUntil: row.blockedUntil } });
  }
}

export async function clearFailures(db: Db, keys: string[]): Promise<void> {
  if (keys.length > 0) await db.delete(loginThrottle).where(inArray(loginThrottle.key, keys));
}
