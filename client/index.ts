import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink, type TRPCClient } from "@trpc/client";
import { MAX_BATCH_CALLS, UNBATCHED_PROCEDURES } from "../shared/batching";
import { transformer } from "../shared/transformer";
// A type-only import: no server code ends up in an app bundle.
import type { AppRouter } from "../server/http/trpc/root";
import { FetchEventSource } from "./event-source";

export type { AppRouter };
export { FetchEventSource } from "./event-source";
export { rowsOf, type Columns, type RowOf } from "../shared/columns";

export interface AppClientOptions {
  /** Base URL of the Verdant server, e.g. "http://localhost:3000". */
  url: string;
  /** Session token for `Authorization: Bearer` (mobile, scripts). Browsers use the session cookie instead. */
  token?: string | (() => string | undefined);
  /** A fetch implementation (React Native, tests); the global fetch by default. */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * Combine calls made in the same tick into one HTTP request (default true: a dashboard's
   * queries at mount). Batching waits one timer tick (about 1 ms in Bun) before sending; a caller
   * that makes one call at a time (a script, a server, a benchmark) can turn it off.
   */
  batch?: boolean;
  /**
   * Split a batch of queries into several GET requests when one URL would be longer than this
   * (queries travel in the URL; proxies commonly refuse URLs over 8 KB). Unlimited by default.
   */
  maxURLLength?: number;
}

export type AppClient = TRPCClient<AppRouter>;

/**
 * A fully typed tRPC client (superjson) for browsers, React Native, Bun and Node. Queries and
 * mutations go over HTTP, batched unless `batch: false`; subscriptions (`live.*`) are server-sent
 * event streams. With a token, or where the runtime has no EventSource, streams go through a
 * fetch-based EventSource that sends the same `Authorization` header; a browser without a token
 * uses its own EventSource and the session cookie.
 */
export function createAppClient(options: AppClientOptions): AppClient {
  const base = options.url.replace(/\/+$/, "");
  const tokenOf = () => (typeof options.token === "function" ? options.token() : options.token);
  const headers = () => {
    const token = tokenOf();
    return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  };
  const nativeEventSource = options.token === undefined && !options.headers && typeof globalThis.EventSource === "function";
  const http = { url: `${base}/trpc`, transformer, fetch: options.fetch, headers };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: nativeEventSource
          ? httpSubscriptionLink({ url: `${base}/trpc`, transformer, eventSourceOptions: { withCredentials: true } })
          : httpSubscriptionLink({
              url: `${base}/trpc`,
              transformer,
              EventSource: FetchEventSource,
              eventSourceOptions: { headers, ...(options.fetch ? { fetch: options.fetch } : {}) },
            }),
        // The server refuses batches of more than MAX_BATCH_CALLS calls, and any batch holding a
        // password procedure (shared/batching.ts): those go alone, larger batches are split.
        false:
          options.batch === false
            ? httpLink(http)
            : splitLink({
                condition: (op) => UNBATCHED_PROCEDURES.includes(op.path),
                true: httpLink(http),
                false: httpBatchLink({ ...http, maxItems: MAX_BATCH_CALLS, maxURLLength: options.maxURLLength }),
              }),
      }),
    ],
  });
}
