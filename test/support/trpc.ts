import { TRPCClientError } from "@trpc/client";

/** The tRPC error code (e.g. "FORBIDDEN") a call failed with, or "OK" if it succeeded. */
export async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (error) {
    if (error instanceof TRPCClientError) return String(error.data?.code ?? "UNKNOWN");
    throw error;
  }
}

/** The failure of a call that must fail, with its code, message and field issues. */
export async function failureOf(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return {
      code: String(error.data?.code),
      httpStatus: Number(error.data?.httpStatus),
      message: error.message,
      issues: (error.data?.issues ?? []) as { path: string; message: string }[],
    };
  }
  throw new Error("expected the call to fail");
}

/** A raw tRPC mutation over fetch, for tests about headers (cookies, Origin) the client hides. */
export function postMutation(url: string, path: string, input: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ json: input }),
  });
}

export function getQuery(url: string, path: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/trpc/${path}`, { headers });
}
