import { gunzipSync } from "node:zlib";
import { Elysia } from "elysia";
import type { IngestLimits } from "../config";
import type { DeviceAuthenticator } from "../devices/device-auth";
import { bearerOf } from "../http";
import { httpError, deviceAuthError } from "../http-errors";
import { CalibratedValueError } from "../ingest/encode";
import { IngestSaturatedError, IngestUnavailableError } from "../ingest/group-commit";
import { parseBatch } from "../ingest/parse";
import type { IngestPipeline } from "../ingest/pipeline";
import { SensorLimitError } from "../ingest/sensor-directory";
import { readBodyUpTo } from "../security/request-body";
import { StoreUnavailableError } from "../stores";

export interface IngestRouteDeps {
  deviceAuth: DeviceAuthenticator;
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
      const auth = await deps.deviceAuth.authenticate(bearerOf(request));
      if (!auth.ok) return deviceAuthError(auth.reason);

      // gzip or nothing: deflate and brotli are refused by name rather than read as broken JSON.
      // One decoder (with its bomb limit) is all a device needs, and all there is to get wrong.
      const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
      if (!SUPPORTED_ENCODINGS.includes(encoding)) {
        return httpError(415, `Content-Encoding ${JSON.stringify(encoding)} is not supported: send the body as it is, or gzip-compressed`, { supported: ["gzip", "identity"] }, { "accept-encoding": "gzip" });
      }
      const received = await readBodyUpTo(request, limits.maxBodyBytes);
      if (received === "too large") return tooLarge(limits.maxBodyBytes);
      let bytes = received;
      if (encoding === "gzip" || encoding === "x-gzip") {
        try {
          // maxOutputLength stops a small gzip bomb from inflating into gigabytes.
          bytes = gunzipSync(bytes, { maxOutputLength: limits.maxBodyBytes });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === "ERR_BUFFER_TOO_LARGE") return tooLarge(limits.maxBodyBytes);
          return httpError(400, "body is not valid gzip", { reason: (error as Error).message });
        }
      }
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder().decode(bytes));
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
        if (error instanceof CalibratedValueError) {
          return httpError(400, error.message, { batchId: parsed.batch.batchId, accepted: 0, duplicates: 0, rejected: error.rejected });
        }
        if (error instanceof SensorLimitError) {
          return httpError(400, error.message, { batchId: parsed.batch.batchId, limit: limits.sensorLimit });
        }
        if (error instanceof IngestSaturatedError || error instanceof IngestUnavailableError) {
          const status = error instanceof IngestSaturatedError ? 429 : 503;
          return withRetryAfter(httpError(status, error.message, { batchId: parsed.batch.batchId }), error.retryAfterSeconds);
        }
        if (error instanceof StoreUnavailableError) {
          return withRetryAfter(httpError(503, error.message, { batchId: parsed.batch.batchId }), 5);
        }
        throw error;
      }
    },
    { parse: "none" },
  );
}

const SUPPORTED_ENCODINGS = ["identity", "gzip", "x-gzip"];

function tooLarge(limit: number): Response {
  return httpError(413, `body larger than ${limit} bytes`, { limit });
}

function withRetryAfter(response: Response, seconds: number): Response {
  response.headers.set("retry-after", String(seconds));
  return response;
}
