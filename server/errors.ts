/**
 * Errors are values with a code and, for bad input, the field they concern. Domain modules throw
 * them; the tRPC layer (server/trpc/trpc.ts) and HTTP routes map them to status codes once.
 */
export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "TOO_MANY_REQUESTS";

export class AppError extends Error {
  override name = "AppError";
  constructor(
    public readonly code: AppErrorCode,
    message: string,
    public readonly options: { path?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found`);
export const forbidden = (message: string) => new AppError("FORBIDDEN", message);
export const badInput = (path: string, message: string) => new AppError("BAD_REQUEST", message, { path });

/**
 * Postgres text cannot hold a NUL character: input with one would fail in the database (500).
 * Every entry point that takes text checks its input here (tRPC for all procedures; the HTTP
 * routes that store text) and answers 400 naming the field. The first such string, if any.
 */
export function nulIssue(value: unknown, path = "", depth = 0): { path: string; message: string } | undefined {
  if (typeof value === "string") return value.includes("\u0000") ? { path, message: "must not contain a NUL character (\\u0000)" } : undefined;
  if (typeof value !== "object" || value === null || depth > 20) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = nulIssue(inner, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return undefined;
}
