/**
 * Security headers, set on every response by the HTTP listener (server/http.ts), whatever the
 * route: API answers, errors, downloads and the dashboard's files alike.
 *
 * The Content-Security-Policy fits a same-origin single-page dashboard served by this server:
 * scripts, styles, fonts and API calls from this origin only (no inline scripts, no eval); images
 * also from data: URLs and any https: URL, because plant photos are links the user gives; no
 * plugins; no framing by any page (clickjacking), no <base> or form target elsewhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join("; ");

/** One year: browsers remember to use HTTPS only. Not for subdomains: they may be other services. */
export const STRICT_TRANSPORT_SECURITY = "max-age=31536000";

const ALWAYS: [string, string][] = [
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "strict-origin-when-cross-origin"],
  ["x-frame-options", "DENY"],
  ["content-security-policy", CONTENT_SECURITY_POLICY],
];

/**
 * Adds the headers a route did not set itself. HSTS only when the client reached us over HTTPS
 * (directly or at a trusted proxy): sent over plain HTTP it would be ignored, and on a server only
 * ever reached over HTTP (a LAN install) it has no business.
 */
export function setSecurityHeaders(headers: Headers, https: boolean): void {
  for (const [name, value] of ALWAYS) if (!headers.has(name)) headers.set(name, value);
  if (https && !headers.has("strict-transport-security")) headers.set("strict-transport-security", STRICT_TRANSPORT_SECURITY);
}
