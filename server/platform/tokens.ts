import { createHash } from "node:crypto";
import { encodeBase32LowerCaseNoPadding, encodeBase64urlNoPadding } from "@oslojs/encoding";

/** 20 random bytes (160 bits) in lower-case base32, as Lucia's session guide recommends. */
export function generateSessionToken(): string {
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(20)));
}

/**
 * What the database stores instead of a token: its SHA-256, hex-encoded. Every signed-in call and
 * every device request hashes its token; the runtime's native SHA-256 does it in about a sixth of
 * the time of a JavaScript one.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Device tokens: a recognizable prefix (for secret scanners and people) plus 32 random bytes. */
export const DEVICE_TOKEN_PREFIX = "vdt_";

export function generateDeviceToken(): string {
  return DEVICE_TOKEN_PREFIX + encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(32)));
}

/** Enough of a token to recognise it in a list, far too little to guess the rest. */
export function tokenHint(token: string): string {
  return `${token.slice(0, DEVICE_TOKEN_PREFIX.length + 4)}…`;
}
