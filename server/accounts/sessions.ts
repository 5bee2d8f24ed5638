import { and, eq, ne } from "drizzle-orm";
import type { Db } from "../../db/client";
import { sessions, users } from "../../db/schema";
import { announceAccessChange, generateSessionToken, hashToken } from "../platform";

/**
 * Sessions per Lucia's session guide: random token, SHA-256 stored, 30-day expiry renewed when
 * less than half of it is left (so an active user stays signed in), deleted on logout.
 */

export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
const RENEW_WHEN_LEFT_MS = SESSION_LIFETIME_MS / 2;

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
}

export interface ValidSession {
  id: string;
  userId: string;
  expiresAt: Date;
  /** True when this validation pushed the expiry forward (the cookie must be re-sent). */
  renewed: boolean;
}

/** Whether a session valid until `expiresAt` is due for its sliding renewal at `now`. */
export function dueForRenewal(expiresAt: Date, now: Date): boolean {
  return expiresAt.getTime() - now.getTime() < RENEW_WHEN_LEFT_MS;
}

export async function createSession(db: Db, userId: string, now: Date): Promise<{ token: string; expiresAt: Date }> {
  const token = generateSessionToken();
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
  await db.insert(sessions).values({ id: hashToken(token), userId, expiresAt, createdAt: now });
  return { token, expiresAt };
}

export async function validateSessionToken(
  db: Db,
  token: string,
  now: Date,
): Promise<{ session: ValidSession; user: SessionUser } | null> {
  const sessionId = hashToken(token);
  const [row] = await db
    .select({
      id: sessions.id,
      userId: sessions.userId,
      expiresAt: sessions.expiresAt,
      email: users.email,
      displayName: users.displayName,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sessionId));
  if (!row) return null;
  if (now.getTime() >= row.expiresAt.getTime()) {
    await db.delete(sessions).where(eq(sessions.id, sessionId));
    return null;
  }
  let expiresAt = row.expiresAt;
  let renewed = false;
  if (dueForRenewal(expiresAt, now)) {
    expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
    renewed = true;
    await db.update(sessions).set({ expiresAt }).where(eq(sessions.id, sessionId));
  }
  return {
    session: { id: row.id, userId: row.userId, expiresAt, renewed },
    user: { id: row.userId, email: row.email, displayName: row.displayName },
  };
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
  await announceAccessChange(db);
}

/** Ends every session of a user, or every one but `keepSessionId`. */
export async function invalidateUserSessions(db: Db, userId: string, keepSessionId?: string): Promise<number> {
  const deleted = await db
    .delete(sessions)
    .where(keepSessionId ? and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId)) : eq(sessions.userId, userId))
    .returning({ id: sessions.id });
  if (deleted.length > 0) await announceAccessChange(db);
  return deleted.length;
}
