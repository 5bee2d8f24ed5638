/**
 * Request bodies under a byte limit. A body with a Content-Length is judged before it is read; a
 * chunked one is read as it arrives and given up the moment it passes the limit, so a client
 * streaming gigabytes costs us no more than the limit. Bun refuses bodies beyond the listener's
 * maxRequestBodySize itself (answering 413) and makes reading them throw: that error is a client's
 * oversized request, answered and logged as a 413, never as a server failure.
 */

const BUN_BODY_LIMIT_MESSAGE = "Request body exceeded maxRequestBodySize";

/** Whether `error` is Bun refusing a body beyond the listener's limit. */
export function isBodyLimitError(error: unknown): boolean {
  return error instanceof Error && error.message === BUN_BODY_LIMIT_MESSAGE;
}

/** The body's bytes, or "too large" when it is (or claims to be) longer than `maxBytes`. */
export async function readBodyUpTo(request: Request, maxBytes: number): Promise<Uint8Array | "too large"> {
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) return "too large";
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > maxBytes) {
        void reader.cancel().catch(() => {});
        return "too large";
      }
      chunks.push(value);
    }
  } catch (error) {
    if (isBodyLimitError(error)) return "too large";
    throw error;
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
