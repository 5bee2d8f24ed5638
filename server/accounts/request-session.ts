import { isHttps, readCookie, SESSION_COOKIE, sessionCookie } from "./cookies";
import type { Stores } from "../platform";
import { sessionCacheOf } from "./session-cache";
import type { SessionUser, ValidSession } from "./sessions";

export interface RequestSession {
  user: SessionUser;
  session: ValidSession;
  /** True when the browser's cookie authenticated the request (not `Authorization: Bearer`). */
  viaCookie: boolean;
  /** With cookie auth and a pushed-forward expiry: the Set-Cookie header to send back. */
  renewedCookie: string | undefined;
}

/**
 * The signed-in user of an HTTP request: apps send `Authorization: Bearer <token>`, browsers the
 * session cookie. One place for tRPC and the plain HTTP routes (export), so both authenticate alike.
 */
export async function sessionOfRequest(
  stores: Stores,
  request: Request,
  now: Date,
  tokenParam?: string,
): Promise<RequestSession | null> {
  // A token passed as a parameter (live subscriptions' connectionParams) counts as a bearer token.
  const bearer = bearerOf(request) ?? (tokenParam || undefined);
  const token = bearer ?? readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  if (!token) return null;
  const found = await sessionCacheOf(stores).session(stores.db, token, now);
  if (!found) return null;
  const viaCookie = !bearer;
  // Sliding expiry: a browser gets the cookie again with the pushed-forward expiry.
  const renewedCookie = found.session.renewed && viaCookie ? sessionCookie(token, found.session.expiresAt, isHttps(request)) : undefined;
  return { user: found.user, session: found.session, viaCookie, renewedCookie };
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerOf(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  return header?.startsWith("Bearer ") ? header.slice(7).trim() || undefined : undefined;
}
