import net from "node:net";
import { eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { loginThrottle } from "../../db/schema";
import { AppError } from "../platform";

/**
 * Login throttling: every password check is paid for before it runs. An attempt first reserves
 * itself on each of its keys in Postgres, one conditional upsert per key that counts the attempt
 * and refuses it when the key is blocked, in one atomic step; only then is the password hashed.
 * So parallel requests, or many servers, cannot run more checks than the keys allow: the 6th of
 * 30 simultaneous guesses finds the block the 5th set. A failed check keeps its reservation (it
 * is the failure on record); a successful one gives the address's back and clears the account's.
 *
 * Keys, each with its own allowance of failures per hour before blocks start (1 s, doubling):
 * - `ip:` the client address (an IPv6 client by its /64, which one subscriber usually holds
 *   whole): 20 failures, blocks up to 15 min. Stops one machine guessing at many accounts.
 * - `pair:` the account from that address: 5 failures, blocks up to 15 min. Stops one machine
 *   guessing at one account, without touching the owner elsewhere.
 * - `email:` the account from everywhere: 10 failures, blocks up to 60 s only. Slows guessing
 *   spread over many addresses. An address with no failure on record for this account (a clean
 *   pair) passes this block: anyone can keep an account's `email:` key blocked, and this is what
 *   lets its owner in regardless (docs/security.md weighs the trade-off).
 * Failures are forgotten an hour after the last one.
 */

export interface ThrottlePolicy {
  /** Failures within the hour that cost nothing; the last of them starts the first 1 s block. */
  free: number;
  maxBlockMs: number;
}

export const ADDRESS_POLICY: ThrottlePolicy = { free: 20, maxBlockMs: 15 * 60_000 };
export const PAIR_POLICY: ThrottlePolicy = { free: 5, maxBlockMs: 15 * 60_000 };
export const ACCOUNT_POLICY: ThrottlePolicy = { free: 10, maxBlockMs: 60_000 };
export const FORGET_AFTER_MS = 60 * 60_000;

/** Kept for callers that speak of "the free failures of an account" (from one address). */
export const FREE_FAILURES = PAIR_POLICY.free;
export const FREE_FAILURES_PER_IP = ADDRESS_POLICY.free;

/** How long a key is blocked after its `failures`-th failure (0: not blocked). */
export function blockDurationMs(policy: ThrottlePolicy, failures: number): number {
  if (failures < policy.free) return 0;
  return Math.min(1000 * 2 ** Math.min(failures - policy.free, 30), policy.maxBlockMs);
}

/** The part of an address that identifies one client: IPv4 whole, IPv6 by its /64 prefix. */
export function addressKey(address: string | undefined): string {
  if (!address) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (net.isIPv6(address)) return `${expandIpv6(address).slice(0, 4).join(":")}::/64`;
  return address;
}

function expandIpv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return groups.map((g) => (g.includes(".") ? g : g.toLowerCase().replace(/^0+(?=.)/, "")));
}

interface Reserved {
  key: string;
  policy: ThrottlePolicy;
}

/**
 * Counts one attempt on `key` unless it is blocked, in one statement: the row lock of the upsert
 * serializes concurrent attempts, and each sees the count and block the previous one left.
 * Returns the failures on record including this attempt, or null when the key is blocked.
 */
async function reserve(db: Db, key: string, policy: ThrottlePolicy, now: Date): Promise<number | null> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const stale = sql`${loginThrottle.lastFailureAt} < ${new Date(now.getTime() - FORGET_AFTER_MS).toISOString()}::timestamptz`;
  const failures = sql`(case when ${stale} then 1 else ${loginThrottle.failures} + 1 end)`;
  const rows = await db
    .insert(loginThrottle)
    .values({ key, failures: 1, lastFailureAt: now, blockedUntil: blockedUntil(policy, 1, now) })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        failures,
        lastFailureAt: now,
        blockedUntil: sql`case when ${failures} >= ${policy.free}::int
          then ${at} + least(power(2, least(${failures} - ${policy.free}::int, 30)) * 1000, ${policy.maxBlockMs}::float8) * interval '1 millisecond'
          else null end`,
      },
      setWhere: sql`${loginThrottle.blockedUntil} is null or ${loginThrottle.blockedUntil} <= ${at} or ${stale}`,
    })
    .returning({ failures: loginThrottle.failures });
  return rows[0]?.failures ?? null;
}

function blockedUntil(policy: ThrottlePolicy, failures: number, now: Date): Date | null {
  const ms = blockDurationMs(policy, failures);
  return ms > 0 ? new Date(now.getTime() + ms) : null;
}

/** Gives an attempt back: it was refused elsewhere, or it succeeded and must not count as a failure. */
async function refund(db: Db, { key, policy }: Reserved): Promise<void> {
  await db
    .update(loginThrottle)
    .set({
      failures: sql`greatest(${loginThrottle.failures} - 1, 0)`,
      blockedUntil: sql`case when ${loginThrottle.failures} - 1 >= ${policy.free}::int then ${loginThrottle.blockedUntil} else null end`,
    })
    .where(eq(loginThrottle.key, key));
}

async function secondsBlocked(db: Db, key: string, now: Date): Promise<number> {
  const [row] = await db.select({ blockedUntil: loginThrottle.blockedUntil }).from(loginThrottle).where(eq(loginThrottle.key, key));
  return Math.max(1, Math.ceil(((row?.blockedUntil?.getTime() ?? now.getTime()) - now.getTime()) / 1000));
}

export interface PasswordAttempt {
  /** The password was right: the address gets its attempt back and the account's failures are cleared. */
  succeeded(): Promise<void>;
}

/**
 * Reserves one password check for `email` from `address`, or throws TOO_MANY_REQUESTS (with
 * Retry-After) without reserving anything. Call before hashing; on success call `succeeded()`;
 * on a wrong password do nothing: the reservation is the failure on record.
 */
export async function reservePasswordCheck(db: Db, email: string, address: string | undefined, now: Date): Promise<PasswordAttempt> {
  const client = addressKey(address);
  const keys = { address: `ip:${client}`, pair: `pair:${client} ${email}`, account: `email:${email}` };
  const reserved: Reserved[] = [];
  const refuse = async (key: string): Promise<never> => {
    const wait = await secondsBlocked(db, key, now);
    for (const r of reserved) await refund(db, r);
    throw new AppError("TOO_MANY_REQUESTS", `too many failed logins; try again in ${wait} s`, { retryAfterSeconds: wait });
  };

  if ((await reserve(db, keys.address, ADDRESS_POLICY, now)) === null) await refuse(keys.address);
  reserved.push({ key: keys.address, policy: ADDRESS_POLICY });
  const pairFailures = await reserve(db, keys.pair, PAIR_POLICY, now);
  if (pairFailures === null) await refuse(keys.pair);
  reserved.push({ key: keys.pair, policy: PAIR_POLICY });
  const accountFailures = await reserve(db, keys.account, ACCOUNT_POLICY, now);
  // A clean pair (this attempt is the address's first on record for the account) passes the
  // account-wide block: that block is the one a stranger can keep up, and must not lock out the owner.
  if (accountFailures === null && pairFailures !== 1) await refuse(keys.account);
  if (accountFailures !== null) reserved.push({ key: keys.account, policy: ACCOUNT_POLICY });

  return {
    succeeded: async () => {
      await refund(db, reserved[0]!);
      await db.delete(loginThrottle).where(inArray(loginThrottle.key, [keys.pair, keys.account]));
    },
  };
}
