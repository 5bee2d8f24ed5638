/**
 * tRPC batching limits, shared by the server (which enforces them) and the app client (which
 * splits its batches to fit). A batch is one HTTP request carrying several calls.
 */

/** Calls in one batch, queries and mutations alike: one request must not buy unbounded work. */
export const MAX_BATCH_CALLS = 50;

/**
 * Procedures that check a password (or create one) are never batched: each is one request, so
 * throttling, Retry-After and the cost of hashing stay per request. A batch naming one is refused whole.
 */
export const UNBATCHED_PROCEDURES: readonly string[] = ["auth.login", "auth.register", "auth.changePassword"];
