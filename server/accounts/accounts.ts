import { count, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { siteMembers, sites, users } from "../../db/schema";
import { AppError } from "../platform";
import { createPersonalSite } from "../sites";
import { argon2Verifier, hashPassword, timingDummyHash, type PasswordVerifier } from "./passwords";
import { createSession, invalidateUserSessions, type SessionUser } from "./sessions";
import { reservePasswordCheck } from "./throttle";

export interface RegisterInput {
  email: string;
  password: string;
  displayName: string;
  timezone?: string | undefined;
}

/** Creates the account and its personal site (owned by the new user) in one transaction. */
export async function registerUser(db: Db, input: RegisterInput): Promise<{ user: SessionUser; siteId: string }> {
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ email: input.email, displayName: input.displayName, passwordHash })
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id, email: users.email, displayName: users.displayName });
    if (!user) throw new AppError("CONFLICT", "an account with this email already exists", { path: "email" });
    const siteId = await createPersonalSite(tx as unknown as Db, user, input.timezone ?? "UTC");
    await claimDemoSite(tx as unknown as Db, user.id);
    return { user, siteId };
  });
}

/**
 * The first account of an installation becomes the owner of the demo site (created at start-up
 * with no member), so whoever sets Verdant up sees the demo plants at once and can invite others.
 * Runs in the registration transaction. The demo site's row is locked before its members are
 * counted: of two first registrations at the same moment (neither sees the other's user yet),
 * the second waits for the first to commit, then finds its membership and takes nothing.
 */
async function claimDemoSite(tx: Db, userId: string): Promise<void> {
  // This transaction's own new user is the one counted: any other means it is not the first.
  const [counted] = await tx.select({ n: count() }).from(users);
  if (Number(counted?.n ?? 0) !== 1) return;
  const [demo] = await tx.select({ id: sites.id }).from(sites).where(eq(sites.isDemo, true)).limit(1).for("update");
  if (!demo) return;
  const [member] = await tx.select({ userId: siteMembers.userId }).from(siteMembers).where(eq(siteMembers.siteId, demo.id)).limit(1);
  if (member) return;
  await tx.insert(siteMembers).values({ siteId: demo.id, userId, role: "owner" });
}

/** What a sign-in screen needs before anyone signs in: whether this is a new installation. */
export async function installationState(db: Db): Promise<{ firstRun: boolean; demoSite: boolean }> {
  const [[anyUser], [demo]] = await Promise.all([
    db.select({ id: users.id }).from(users).limit(1),
    db.select({ id: sites.id }).from(sites).where(eq(sites.isDemo, true)).limit(1),
  ]);
  return { firstRun: !anyUser, demoSite: Boolean(demo) };
}

const INVALID_CREDENTIALS = "invalid email or password";

/**
 * Checks the credentials under throttling and opens a session. The check is reserved before it
 * runs (server/auth/throttle.ts), so no concurrency gets more guesses than the throttle allows.
 * Unknown email and wrong password give the same error after the same work (a full argon2id
 * verification).
 */
export async function login(
  db: Db,
  input: { email: string; password: string; ip: string | undefined },
  now: Date,
  passwords: PasswordVerifier = argon2Verifier,
): Promise<{ user: SessionUser; token: string; expiresAt: Date }> {
  const attempt = await reservePasswordCheck(db, input.email, input.ip, now);
  const [user] = await db.select().from(users).where(eq(users.email, input.email));
  const valid = await passwords.verify(input.password, user?.passwordHash ?? (await timingDummyHash()));
  if (!user || !valid) throw new AppError("UNAUTHORIZED", INVALID_CREDENTIALS);
  await attempt.succeeded();
  const session = await createSession(db, user.id, now);
  return { user: { id: user.id, email: user.email, displayName: user.displayName }, ...session };
}

/**
 * Changes the password and ends every other session of the user (a thief's included). The current
 * password is checked under the login throttle: a stolen session must not become a way to guess it.
 */
export async function changePassword(
  db: Db,
  input: { userId: string; sessionId: string; currentPassword: string; newPassword: string; ip: string | undefined },
  now: Date,
  passwords: PasswordVerifier = argon2Verifier,
): Promise<{ otherSessionsEnded: number }> {
  const [user] = await db.select().from(users).where(eq(users.id, input.userId));
  if (!user) throw new AppError("UNAUTHORIZED", "sign in first: no valid session");
  const attempt = await reservePasswordCheck(db, user.email, input.ip, now);
  if (!(await passwords.verify(input.currentPassword, user.passwordHash))) {
    throw new AppError("UNAUTHORIZED", "current password is wrong", { path: "currentPassword" });
  }
  await attempt.succeeded();
  if (input.currentPassword === input.newPassword) {
    throw new AppError("BAD_REQUEST", "must differ from the current password", { path: "newPassword" });
  }
  await db
    .update(users)
    .set({ passwordHash: await hashPassword(input.newPassword), passwordChangedAt: now })
    .where(eq(users.id, user.id));
  return { otherSessionsEnded: await invalidateUserSessions(db, user.id, input.sessionId) };
}
