import { randomUUID } from "node:crypto";
import type { Server } from "bun";
import { CorsPolicy, forwardedView, isPreflight, setMetaOf, TrustedProxies, type Logger } from "../platform";
import { setSecurityHeaders } from "./security-headers";

/**
 * The HTTP listener around the Elysia app: one place for what every request gets whatever its
 * route — a request id (kept from the client when it looks sane, echoed in `x-request-id`), the
 * access log line, the peer address for loopback-only routes, the client as trusted proxies
 * describe it (platform/proxies.ts), CORS for listed origins (platform/cors.ts) and the security
 * headers (./security-headers.ts).
 */

/** A client may pass its own request id (for tracing across services) if it looks like one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface HttpOptions {
  port: number;
  hostname: string;
  log: Logger;
  handle: (request: Request) => Response | Promise<Response>;
  /** Bodies beyond this are refused by Bun before they reach a route (default 8 MiB). */
  maxRequestBodySize?: number;
  /** Peers whose X-Forwarded-* headers are believed (TRUSTED_PROXIES); none by default. */
  trustedProxies?: TrustedProxies;
  /** Other origins allowed to call the API from a browser (CORS_ORIGINS); none by default. */
  cors?: CorsPolicy;
}

export function serveHttp(options: HttpOptions): Server<undefined> {
  const { log, handle } = options;
  const proxies = options.trustedProxies ?? TrustedProxies.none;
  const cors = options.cors ?? CorsPolicy.none;
  return Bun.serve({
    port: options.port,
    hostname: options.hostname,
    // Long-polls (commands) and large ingest bodies need more than Bun's 10 s default.
    idleTimeout: 60,
    maxRequestBodySize: Math.max(options.maxRequestBodySize ?? 0, 8 * 1024 * 1024),
    async fetch(request, server) {
      const startedAt = performance.now();
      const presented = request.headers.get("x-request-id");
      const id = presented && REQUEST_ID.test(presented) ? presented : randomUUID();
      const remoteAddress = server.requestIP(request)?.address ?? "";
      const corsAllowed = cors.allows(request.headers.get("origin"));
      const meta = { id, remoteAddress, corsAllowed, ...forwardedView(request, remoteAddress, proxies) };
      setMetaOf(request, meta);
      const corsPath = cors.appliesTo(new URL(request.url).pathname);
      const preflight = corsPath && isPreflight(request);
      const response = preflight ? cors.preflight(request) : await oneSendForJson(await handle(request));
      response.headers.set("x-request-id", id);
      if (corsPath && !preflight) cors.decorate(request, response.headers);
      setSecurityHeaders(response.headers, meta.https);
      const durationMs = Math.round((performance.now() - startedAt) * 100) / 100;
      // The access line is written once the response is on its way: a synchronous write to
      // stdout has no business on the critical path of every call.
      setImmediate(() =>
        log.info({ requestId: id, method: request.method, path: new URL(request.url).pathname, status: response.status, durationMs }, "request"),
      );
      return response;
    },
  });
}

/**
 * Bun (1.4.5) writes a response that completes after an await (any answer that queried a store)
 * without corking the socket once headers and body exceed its 16 KB cork buffer: the status line
 * and each header's name, ": ", value and CRLF go out in their own send(), about twenty TCP
 * segments the client wakes up for (oven-sh/bun#41341; measured with strace). A body handed over
 * as a stream is written with the headers in one send() and its end in a second. So a JSON answer
 * that does not fit the buffer is sent as a one-chunk stream (chunked, without Content-Length):
 * for a site's latest values (68 KB) that is about 0.1–0.2 ms sooner at the client. Smaller
 * answers already leave in one send() and are sent as they are.
 */
const FITS_CORK_BUFFER = 15 * 1024; // 16 KB, less room for the headers

export async function oneSendForJson(response: Response): Promise<Response> {
  // Only buffered JSON: event streams, JSON lines and exports stream already (and must not be read whole).
  if (response.bodyUsed || response.headers.get("content-type")?.split(";", 1)[0] !== "application/json") return response;
  // Text, not bytes: a body made from a string gives it back without encoding it.
  const text = await response.text();
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  const fits = text.length <= FITS_CORK_BUFFER && (text.length * 3 <= FITS_CORK_BUFFER || Buffer.byteLength(text) <= FITS_CORK_BUFFER);
  if (fits) return new Response(text, init);
  response.headers.delete("content-length");
  // Bun writes a string chunk as UTF-8 (a web stream would want bytes: encoding them costs more).
  const body = new ReadableStream<string>({
    start(controller) {
      controller.enqueue(text);
      controller.close();
    },
  });
  return new Response(body, init);
}
