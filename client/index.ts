import { createTRPCClient, httpBatchLink, type TRPCClient } from "@trpc/client";
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
}

export type AppClient = TRPCClient<AppRouter>;

/** A fully typed tRPC client (superjson on the wire, request batching) for browsers, React Native, Bun and Node. */
export function createAppClient(options: AppClientOptions): AppClient {
  const base = options.url.replace(/\/+$/, "");
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/trpc`,
        transformer,
        fetch: options.fetch,
        headers: () => {
          const token = typeof options.token === "function" ? options.token() : options.token;
          return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
        },
      }),
    ],
  });
}
