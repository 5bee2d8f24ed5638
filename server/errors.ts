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
