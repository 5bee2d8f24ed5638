import { MutationCache, QueryCache, QueryClient, useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createAppClient, type AppRouter } from "../../../client";

/**
 * The project's own typed client (client/index.ts), used with TanStack Query directly: the browser
 * is on the server's origin, so it sends the session cookie and subscriptions use the native
 * EventSource. Queries made in the same tick share one HTTP request (batching), split when the URL
 * would pass 8 KB (a grid of many plants asks a few questions per plant).
 */
export const api = createAppClient({ url: window.location.origin, maxURLLength: 8_000 });

export type Inputs = inferRouterInputs<AppRouter>;
export type Outputs = inferRouterOutputs<AppRouter>;

export interface FieldIssue {
  path: string;
  message: string;
}

/** The tRPC error code of a failed call ("UNAUTHORIZED", "BAD_REQUEST", …), if it was one. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof TRPCClientError ? (error.data?.code as string | undefined) : undefined;
}

/** Field issues of a failed call: zod paths from input validation, or the field a domain error names. */
export function issuesOf(error: unknown): FieldIssue[] {
  if (!(error instanceof TRPCClientError)) return [];
  const issues = (error.data as { issues?: FieldIssue[] } | undefined)?.issues;
  return Array.isArray(issues) ? issues : [];
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Signed out (or the session expired): the app shows the sign-in screen instead of an error. */
export const isSignedOut = (error: unknown) => errorCode(error) === "UNAUTHORIZED";

export function createQueryClient(onSignedOut: () => void): QueryClient {
  return new QueryClient({
    // A call refused for want of a session (it expired, or was ended elsewhere): back to sign-in.
    // Not for the session query itself, whose refusal is how the app learns it is signed out.
    queryCache: new QueryCache({ onError: (error, query) => isSignedOut(error) && query.queryKey[0] !== "auth" && onSignedOut() }),
    mutationCache: new MutationCache({ onError: (error) => isSignedOut(error) && onSignedOut() }),
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        // Refused or invalid calls will not succeed on retry; a dropped connection may.
        retry: (count, error) => count < 2 && (errorCode(error) === undefined || errorCode(error) === "SERVICE_UNAVAILABLE"),
        refetchOnWindowFocus: true,
      },
    },
  });
}

/**
 * A mutation that refreshes what it changed: each key is a prefix (["plants"] refreshes every
 * plants query). Its error stays on the mutation for the form to show next to the fields.
 */
export function useApiMutation<TInput, TOutput>(
  mutate: (input: TInput) => Promise<TOutput>,
  options: { invalidate?: QueryKey[]; onSuccess?: (output: TOutput, input: TInput) => void } = {},
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: mutate,
    onSuccess: async (output, input) => {
      options.onSuccess?.(output, input);
      await Promise.all((options.invalidate ?? []).map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    },
  });
}

/** Every page of a cursor-paginated list, for lists a dashboard shows whole (a site's plants, devices' sensors). */
export async function allPages<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>, max = 1_000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const result = await page(cursor);
    items.push(...result.items);
    cursor = result.nextCursor ?? undefined;
  } while (cursor && items.length < max);
  return items;
}
