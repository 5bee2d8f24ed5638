import { Elysia } from "elysia";
import { lineProtocolBatch, precisionOf, type IngestPipeline } from "../../pipelines/ingest";
import { AppError, HTTP_STATUS, StoreUnavailableError, type IngestLimits } from "../../platform";
import type { AuthenticatedDevice, SiteDirectory } from "../../sites";
import { answerInfluxQL, bucketsAnswer, deviceTokenOf, healthAnswer, INFLUX_VERSION, orgsAnswer } from "../influx-api";
import { bodyMessage, readRequestBody } from "../request-body";

/**
 * InfluxDB's HTTP API for writing clients (Telegraf, Tasmota, Home Assistant, client libraries):
 * `POST /write` (1.x) and `POST /api/v2/write` (2.x) take line protocol with a device token as
 * the credential and answer 204 once the readings are committed, through the same pipeline as
 * /v1/ingest; `/ping`, `/health`, `/query` (SHOW / CREATE DATABASE), `/api/v2/buckets` and
 * `/api/v2/orgs` answer what those clients ask on connect. Errors take InfluxDB's shapes:
 * `{"error": …}` for 1.x, `{"code": …, "message": …}` for 2.x. See docs/influx.md.
 */

export interface InfluxRouteDeps {
  directory: SiteDirectory;
  pipeline: () => IngestPipeline;
  limits: IngestLimits;
  rawRetentionDays: number;
  /** Why ingest cannot take writes now (the last insert failed), if it cannot: /health says so. */
  degraded: () => string | undefined;
  now: () => number;
}

type Api = "v1" | "v2";

const V2_CODES: Record<number, string> = {
  400: "invalid",
  401: "unauthorized",
  403: "forbidden",
  413: "request too large",
  415: "unsupported media type",
  429: "too many requests",
  503: "unavailable",
};

/** InfluxQL arrives in a query string or a small form: more than this is not a client connecting. */
const MAX_QUERY_BYTES = 64 * 1024;

export function influxRoutes(deps: InfluxRouteDeps) {
  const { limits } = deps;
  const readingLimits = {
    maxReadings: limits.maxReadings,
    maxClockSkewMs: limits.maxClockSkewMs,
    // As /v1/ingest: readings past the raw retention (less a day) could not be recognised on retry.
    maxAgeMs: Math.max(1, deps.rawRetentionDays - 1) * 86_400_000,
  };

  /** The device of the request's token, or the InfluxDB-shaped refusal. */
  const authenticate = async (request: Request, api: Api, url: URL): Promise<AuthenticatedDevice | Response> => {
    try {
      const auth = await deps.directory.authenticate(deviceTokenOf(request.headers.get("authorization"), url.searchParams));
      return auth.ok ? auth.device : authError(api, auth.reason);
    } catch (error) {
      if (error instanceof StoreUnavailableError) return influxError(api, 503, error.message, { retryAfter: 5 });
      throw error;
    }
  };

  const write = async (request: Request, api: Api): Promise<Response> => {
    const url = new URL(request.url);
    const device = await authenticate(request, api, url);
    if (device instanceof Response) return device;
    const precisionParam = url.searchParams.get("precision");
    const precision = precisionOf(precisionParam);
    if (!precision) return influxError(api, 400, `invalid precision '${precisionParam}': use ns, us, ms or s (1.x names n, u, m and h work too)`);
    const body = await readRequestBody(request, limits.maxBodyBytes);
    if (!body.ok) return influxError(api, body.status, bodyMessage(body));

    const now = deps.now();
    const result = lineProtocolBatch(body.bytes, { deviceId: device.id, precision, now, limits: readingLimits });
    if (!result.ok) return influxError(api, result.status, result.message, { line: result.line });
    // InfluxDB 2.x refuses an empty write; 1.x accepts it (Home Assistant's 1.x setup depends on that).
    if (result.points === 0 && api === "v2") return influxError(api, 400, "writing requires points");
    let receipt;
    try {
      receipt = await deps.pipeline().ingest(device, result.batch, now);
    } catch (error) {
      return pipelineError(api, error);
    }
    const headers = new Headers(VERSION_HEADERS);
    headers.set("x-verdant-batch-id", receipt.batchId);
    headers.set("x-verdant-accepted", String(receipt.accepted));
    headers.set("x-verdant-duplicates", String(receipt.duplicates));
    headers.set("x-verdant-not-stored", String(result.notStored.count));
    if (result.notStored.keys.length > 0) headers.set("x-verdant-not-stored-keys", result.notStored.keys.join(","));
    return new Response(null, { status: 204, headers });
  };

  const ping = ({ request }: { request: Request }) => {
    if (new URL(request.url).searchParams.get("verbose") === "true") return Response.json({ version: INFLUX_VERSION }, { headers: VERSION_HEADERS });
    return new Response(null, { status: 204, headers: VERSION_HEADERS });
  };

  const query = async ({ request }: { request: Request }) => {
    const url = new URL(request.url);
    const device = await authenticate(request, "v1", url);
    if (device instanceof Response) return device;
    const params = new URLSearchParams(url.searchParams);
    if (request.method === "POST" && (request.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
      if (Number(request.headers.get("content-length") ?? "0") > MAX_QUERY_BYTES) return influxError("v1", 413, `query larger than ${MAX_QUERY_BYTES} bytes`);
      const text = await request.text();
      if (text.length > MAX_QUERY_BYTES) return influxError("v1", 413, `query larger than ${MAX_QUERY_BYTES} bytes`);
      for (const [key, value] of new URLSearchParams(text)) params.set(key, value);
    }
    const q = params.get("q");
    if (!q) return influxError("v1", 400, `missing required parameter "q"`);
    return Response.json(answerInfluxQL(q, params.get("db")), { headers: VERSION_HEADERS });
  };

  const lookup = async (request: Request, answer: (device: AuthenticatedDevice, params: URLSearchParams) => unknown) => {
    const url = new URL(request.url);
    const device = await authenticate(request, "v2", url);
    if (device instanceof Response) return device;
    return Response.json(answer(device, url.searchParams), { headers: VERSION_HEADERS });
  };

  return new Elysia({ name: "influx" })
    .post("/write", ({ request }) => write(request, "v1"), { parse: "none" })
    .post("/api/v2/write", ({ request }) => write(request, "v2"), { parse: "none" })
    .get("/ping", ping)
    .head("/ping", ping)
    .get("/health", () => {
      const problem = deps.degraded();
      return Response.json(healthAnswer(problem), { status: problem ? 503 : 200, headers: VERSION_HEADERS });
    })
    .get("/query", query)
    .post("/query", query, { parse: "none" })
    .get("/api/v2/buckets", ({ request }) =>
      lookup(request, (device, params) =>
        bucketsAnswer({ deviceId: device.id, siteId: device.siteId, name: params.get("name"), org: params.get("org"), rawRetentionDays: deps.rawRetentionDays }),
      ),
    )
    .get("/api/v2/orgs", ({ request }) => lookup(request, (device, params) => orgsAnswer({ siteId: device.siteId, org: params.get("org") })));
}

const VERSION_HEADERS = { "x-influxdb-version": INFLUX_VERSION, "x-influxdb-build": "OSS" };

/** An error as InfluxDB answers it: 1.x `{"error"}` (and the X-Influxdb-Error header), 2.x `{"code","message"}`. */
function influxError(api: Api, status: number, message: string, extra: { retryAfter?: number; line?: number } = {}): Response {
  const headers = new Headers(VERSION_HEADERS);
  if (extra.retryAfter) headers.set("retry-after", String(extra.retryAfter));
  if (api === "v1") {
    headers.set("x-influxdb-error", headerSafe(message));
    return Response.json({ error: message }, { status, headers });
  }
  return Response.json({ code: V2_CODES[status] ?? "internal error", message, ...(extra.line ? { line: extra.line } : {}) }, { status, headers });
}

/** 401 for a missing or unknown token, 403 for a revoked device; worded as InfluxDB's so clients show the right hint. */
function authError(api: Api, reason: "malformed" | "unknown" | "revoked"): Response {
  if (reason === "revoked") return influxError(api, 403, `${api === "v1" ? "authorization failed" : "forbidden"}: this device is revoked; rotate its token in Verdant`);
  const why = reason === "malformed" ? "no device token: send the device's vdt_… token as the password (1.x) or as the API token (2.x)" : "unknown device token";
  return influxError(api, 401, `${api === "v1" ? "authorization failed" : "unauthorized access"}: ${why}`);
}

/** Backpressure and limits from the pipeline, with the statuses /v1/ingest gives them, in InfluxDB's shapes. */
function pipelineError(api: Api, error: unknown): Response {
  if (error instanceof AppError) {
    const retryAfter = error.options.retryAfterSeconds;
    return influxError(api, HTTP_STATUS[error.code], error.message, retryAfter !== undefined ? { retryAfter } : {});
  }
  if (error instanceof StoreUnavailableError) return influxError(api, 503, error.message, { retryAfter: 5 });
  throw error;
}

/** A header value carries printable ASCII on one line. */
function headerSafe(message: string): string {
  return message.replace(/\n/g, "; ").replace(/[^\x20-\x7e]/g, "?").slice(0, 1000);
}
