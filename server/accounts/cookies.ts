import { metaOf, originOf } from "../platform";

export const SESSION_COOKIE = "verdant_session";

/** HttpOnly (no script can read it), SameSite=Lax, Secure when the request came over HTTPS. */
export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  const parts = [
    `${SESSION_COOKIE}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Expires=${expiresAt.toUTCString()}`,
  ];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

export function clearedSessionCookie(secure: boolean): string {
  const parts = [`${SESSION_COOKIE}=`, "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0"];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether the client reached us over HTTPS: directly, or at a TLS-terminating proxy listed in
 * TRUSTED_PROXIES (its X-Forwarded-Proto; from anyone else the header means nothing).
 */
export function isHttps(request: Request): boolean {
  return metaOf(request).https;
}

/**
 * CSRF defence for cookie-authenticated state changes: the browser's Origin header must name
 * this server's own origin (scheme, host and port, as trusted proxies report them) or an origin
 * listed in CORS_ORIGINS. (SameSite=Lax already blocks most cross-site POSTs; this closes the rest.)
 */
export function originMatchesHost(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (!origin) return false;
  const meta = metaOf(request);
  return meta.corsAllowed || (meta.origin !== "" && originOf(origin) === meta.origin);
}
