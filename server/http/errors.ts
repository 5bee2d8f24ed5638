import { AppError, HTTP_STATUS, StoreUnavailableError } from "../platform";

/** HTTP errors outside tRPC share one JSON shape: `{ error, details }`. */
export function httpError(status: number, error: string, details?: unknown, headers: Record<string, string> = {}): Response {
  return Response.json({ error, details: details ?? null }, { status, headers });
}

/** 401 for a missing or unknown token (authenticate again), 403 for a revoked device (a person must act). */
export function deviceAuthError(reason: "malformed" | "unknown" | "revoked"): Response {
  if (reason === "revoked") return httpError(403, "device revoked", { hint: "rotate the device token to enable it again" });
  return new Response(JSON.stringify({ error: "invalid device token", details: { reason } }), {
    status: 401,
    headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="verdant-device"' },
  });
}

/** How long a client should wait before retrying when a store is down. */
const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * Domain errors and store outages as HTTP responses, for routes outside tRPC (the tRPC core maps
 * the same codes); `details` adds what the route knows (a batch id). Anything else is rethrown.
 */
export function httpErrorOf(error: unknown, details: Record<string, unknown> = {}): Response {
  if (error instanceof AppError) {
    const { path, retryAfterSeconds } = error.options;
    const headers: Record<string, string> = retryAfterSeconds !== undefined ? { "retry-after": String(retryAfterSeconds) } : {};
    const all = { ...(path ? { path } : {}), ...error.options.details, ...details };
    return httpError(HTTP_STATUS[error.code], error.message, Object.keys(all).length > 0 ? all : null, headers);
  }
  if (error instanceof StoreUnavailableError) {
    return httpError(503, error.message, { reason: error.message, ...details }, { "retry-after": String(STORE_RETRY_AFTER_SECONDS) });
  }
  throw error;
}
