import { TRPCError } from "@trpc/server";
import { MAX_BATCH_CALLS, UNBATCHED_PROCEDURES } from "../../../shared/batching";

/**
 * What a tRPC batch may hold. The number of calls is capped by tRPC itself (`maxBatchSize`,
 * checked before any call runs); this refuses a batch that names an authentication procedure,
 * checked when the request's context is built, so no call of that batch runs at all.
 */

export { MAX_BATCH_CALLS };

/** tRPC's own message when a batch exceeds `maxBatchSize`; the error formatter says what the limit is. */
export const BATCH_TOO_LARGE = "Batch call exceeds maximum size";
export const BATCH_TOO_LARGE_MESSAGE = `a batch may hold at most ${MAX_BATCH_CALLS} calls: split it`;

export function refuseUnbatchable(info: { isBatchCall: boolean; calls: readonly { path: string }[] }): void {
  if (!info.isBatchCall) return;
  const named = info.calls.find((call) => UNBATCHED_PROCEDURES.includes(call.path));
  if (named) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `${named.path} cannot be batched: send it as a request of its own` });
  }
}
