/**
 * Errors are values with a code and, for bad input, the field they concern. Domain modules and
 * pipelines throw them; the tRPC core and the HTTP routes answer them through one table of
 * statuses (HTTP_STATUS; the codes are tRPC's own names).
 */
export const HTTP_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
} as const;
export type AppErrorCode = keyof typeof HTTP_STATUS;

export class AppError extends Error {
  override name = "AppError";
  constructor(
    public readonly code: AppErrorCode,
    message: string,
    public readonly options: { path?: string; retryAfterSeconds?: number; details?: Record<string, unknown> } = {},
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

/** The message of anything thrown, for logs and readiness reasons (the first of an AggregateError). */
export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
