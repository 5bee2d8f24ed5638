import { createTRPCClient, httpBatchLink, httpLink, type TRPCClient } from "@trpc/client";
import { transformer } from "../shared/transformer";
// A type-only import: no server code ends up in an app bundle.
import type { AppRouter } from "../server/trpc/root";

export type { AppRouter };

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
}

export type AppClient = TRPCClient<AppRouter>;

/** A fully typed tRPC client (superjson on the wire, request batching unless `batch: false`) for browsers, React Native, Bun and Node. */
export function createAppClient(options: AppClientOptions): AppClient {
  const base = options.url.replace(/\/+$/, "");
  const link = {
    url: `${base}/trpc`,
    transformer,
    fetch: options.fetch,
    headers: () => {
      const token = typeof options.token === "function" ? options.token() : options.token;
      return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
    },
  };
  return createTRPCClient<AppRouter>({ links: [options.batch === false ? httpLink(link) : httpBatchLink(link)] });
}
