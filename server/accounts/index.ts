/**
 * Accounts: users, passwords (argon2id), sessions the Lucia way (random tokens, SHA-256 hashes
 * stored, sliding expiry) and their cache, login throttling, the session cookie, and who is signed
 * in on an HTTP request. Roles in sites are site facts: see server/sites.
 */
export { changePassword, installationState, login, registerUser } from "./accounts";
export { argon2Verifier, type PasswordVerifier } from "./passwords";
export { bearerOf, sessionOfRequest } from "./request-session";
export { SESSION_COOKIE, clearedSessionCookie, isHttps, originMatchesHost, readCookie, sessionCookie } from "./cookies";
export { createSession, invalidateSession, invalidateUserSessions } from "./sessions";
export { sessionCacheOf } from "./session-cache";
