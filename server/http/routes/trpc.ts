import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Elysia } from "elysia";
import { metaOf, type EventHub, type Logger, type Stores } from "../../platform";
import type { PasswordVerifier } from "../../accounts";
import type { SiteDirectory } from "../../sites";
import { MAX_BATCH_CALLS, refuseUnbatchable } from "../trpc/batch-policy";
import { appRouter } from "../trpc/root";

/** `/trpc/*`: every procedure of the app router, queries and mutations over HTTP, subscriptions as server-sent events. */

export interface TrpcRouteDeps {
  stores: Stores;
  directory: SiteDirectory;
  events: EventHub;
  log: Logger;
  now: () => Date;
  liveReadingsIntervalMs: number;
  /** Checks passwords (argon2id unless a test counts the checks). */
  passwords: PasswordVerifier;
  /** Aborted when shutdown starts: live streams are cut (see below). */
  stopping: AbortSignal;
}

export function trpcRoutes(deps: TrpcRouteDeps) {
  const { log, stopping } = deps;
  return new Elysia({ name: "trpc" }).all(
    "/trpc/*",
    async ({ request }) => {
      const response = await fetchRequestHandler({
        endpoint: "/trpc",
        req: request,
        router: appRouter,
        maxBatchSize: MAX_BATCH_CALLS,
        createContext: ({ req, resHeaders, info }) => {
          // Password procedures are never batched (throttling counts one check per request).
          refuseUnbatchable(info);
          return {
          requestId: metaOf(request).id,
          stores: deps.stores,
          directory: deps.directory,
          events: deps.events,
          now: deps.now,
          liveReadingsIntervalMs: deps.liveReadingsIntervalMs,
          connectionParams: info.connectionParams,
          req,
          resHeaders,
          passwords: deps.passwords,
          clientIp: metaOf(request).clientAddress || undefined,
          };
        },
        onError: ({ error, path }) => {
          if (error.code === "INTERNAL_SERVER_ERROR") {
            log.error({ requestId: metaOf(request).id, procedure: path, err: error.cause ?? error }, "procedure failed");
          }
        },
      });
      return cutStreamsOnStop(response, stopping);
    },
    // tRPC reads the body itself.
    { parse: "none" },
  );
}

/**
 * Live subscriptions are endless event streams: when the server stops, cut them at the transport
 * (the body ends without tRPC's "return" event), so draining requests does not wait for them and
 * clients reconnect, as they do after any dropped connection, instead of ending the subscription.
 */
function cutStreamsOnStop(response: Response, stopping: AbortSignal): Response {
  // The content type first: most answers are not streams, and their body is best left untouched.
  if (!response.headers.get("content-type")?.startsWith("text/event-stream") || !response.body) return response;
  const reader = response.body.getReader();
  let cut = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      cut = () => {
        // Ends the body as a dropped connection would: EventSource clients reconnect.
        try {
          controller.close();
        } catch {
          // Already closed.
        }
        void reader.cancel("server shutting down").catch(() => {});
      };
      if (stopping.aborted) cut();
      else stopping.addEventListener("abort", cut, { once: true });
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          stopping.removeEventListener("abort", cut);
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      stopping.removeEventListener("abort", cut);
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}
