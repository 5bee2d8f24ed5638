import { randomUUID } from "node:crypto";
import type { Server } from "bun";
import type { Logger } from "./logger";

/**
 * The HTTP listener around the Elysia app: one place for what every request gets whatever its
 * route — a request id (kept from the client when it looks sane, echoed in `x-request-id`), the
 * access log line, and the peer address for loopback-only routes.
 */

export interface RequestMeta {
  id: string;
  remoteAddress: string;
}

const requestMeta = new WeakMap<Request, RequestMeta>();

/** A client may pass its own request id (for tracing across services) if it looks like one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function metaOf(request: Request): RequestMeta {
  return requestMeta.get(request) ?? { id: "unknown", remoteAddress: "" };
}

export interface HttpOptions {
  port: number;
  hostname: string;
  log: Logger;
  handle: (request: Request) => Response | Promise<Response>;
  /** Bodies beyond this are refused by Bun before they reach a route (default 8 MiB). */
  maxRequestBodySize?: number;
}

export function serveHttp(options: HttpOptions): Server<undefined> {
  const { log, handle } = options;
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
      requestMeta.set(request, { id, remoteAddress: server.requestIP(request)?.address ?? "" });
      const response = await handle(request);
      response.headers.set("x-request-id", id);
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

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerOf(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  return header?.startsWith("Bearer ") ? header.slice(7).trim() || undefined : undefined;
}
