import { AppError } from "./errors";
import { StoreUnavailableError } from "./stores";

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

const STATUS: Record<AppError["code"], number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
};

/** Domain errors and store outages as HTTP responses, for routes outside tRPC; anything else is rethrown. */
export function httpErrorOf(error: unknown): Response {
  if (error instanceof AppError) return httpError(STATUS[error.code], error.message, error.options.path ? { path: error.options.path } : null);
  if (error instanceof StoreUnavailableError) return httpError(503, "service unavailable", { reason: error.message }, { "retry-after": "5" });
  throw error;
}
