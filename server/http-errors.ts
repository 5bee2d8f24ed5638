/** HTTP errors outside tRPC share one JSON shape: `{ error, details }`. */
export function httpError(status: number, error: string, details?: unknown): Response {
  return Response.json({ error, details: details ?? null }, { status });
}

/** 401 for a missing or unknown token (authenticate again), 403 for a revoked device (a person must act). */
export function deviceAuthError(reason: "malformed" | "unknown" | "revoked"): Response {
  if (reason === "revoked") return httpError(403, "device revoked", { hint: "rotate the device token to enable it again" });
  return new Response(JSON.stringify({ error: "invalid device token", details: { reason } }), {
    status: 401,
    headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="verdant-device"' },
  });
}
