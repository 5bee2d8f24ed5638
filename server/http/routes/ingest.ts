import { Elysia } from "elysia";
import { bearerOf } from "../../accounts";
import { parseBatch, type IngestPipeline } from "../../pipelines/ingest";
import type { IngestLimits } from "../../platform";
import type { SiteDirectory } from "../../sites";
import { deviceAuthError, httpError, httpErrorOf } from "../errors";
import { readRequestBody, SUPPORTED_ENCODINGS } from "../request-body";

export interface IngestRouteDeps {
  directory: SiteDirectory;
  pipeline: () => IngestPipeline;
  limits: IngestLimits;
  /** Raw retention: readings older than it (less a day of margin) are refused. */
  rawRetentionDays: number;
  now: () => number;
}

/** `POST /v1/ingest`: device token → body (gzip allowed) → validated batch → receipt after commit. */
export function ingestRoutes(deps: IngestRouteDeps) {
  const { limits } = deps;
  return new Elysia().post(
    "/v1/ingest",
    async ({ request }) => {
      const auth = await deps.directory.authenticate(bearerOf(request));
      if (!auth.ok) return deviceAuthError(auth.reason);

      const read = await readRequestBody(request, limits.maxBodyBytes);
      if (!read.ok) {
        if (read.status === 415) return httpError(415, read.error, { supported: SUPPORTED_ENCODINGS }, { "accept-encoding": "gzip" });
        return httpError(read.status, read.error, read.status === 413 ? { limit: limits.maxBodyBytes } : read.reason ? { reason: read.reason } : null);
      }
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder().decode(read.bytes));
      } catch (error) {
        return httpError(400, "body is not valid JSON", { reason: (error as Error).message });
      }

      const now = deps.now();
      const maxAgeMs = Math.max(1, deps.rawRetentionDays - 1) * 86_400_000;
      const parsed = parseBatch(body, now, { ...limits, maxAgeMs });
      if (!parsed.ok) {
        return httpError(parsed.status, parsed.error, {
          batchId: parsed.batchId ?? null,
          accepted: 0,
          duplicates: 0,
          rejected: parsed.rejected,
          ...(parsed.status === 413 ? { limit: limits.maxReadings } : {}),
        });
      }
      try {
        return await deps.pipeline().ingest(auth.device, parsed.batch, now);
      } catch (error) {
        // Backpressure (429), an unavailable store (503), too many sensors (400): Retry-After where it helps.
        return httpErrorOf(error, { batchId: parsed.batch.batchId });
      }
    },
    { parse: "none" },
  );
}
