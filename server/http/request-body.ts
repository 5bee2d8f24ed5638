import { gunzipSync } from "node:zlib";

export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | {
      ok: false;
      status: 400 | 413 | 415;
      /** What went wrong, for the answer's `error`. */
      error: string;
      /** The underlying reason, where there is one (the gzip error). */
      reason?: string;
    };

/** The encodings a device may send bodies in: gzip or none. */
export const SUPPORTED_ENCODINGS = ["gzip", "identity"] as const;

/**
 * A device's request body as bytes, gunzipped when `Content-Encoding: gzip`, refused past
 * `maxBytes` before and after decompression (a small gzip bomb stops at the limit instead of
 * inflating into gigabytes; a chunked body is given up the moment it passes the limit) and
 * refused with 415 for other encodings: deflate and brotli are named rather than read as broken
 * JSON, and one decoder with its bomb limit is all a device needs. One place for POST /v1/ingest
 * and the InfluxDB write endpoints.
 */
export async function readRequestBody(request: Request, maxBytes: number): Promise<BodyResult> {
  const tooLarge = { ok: false, status: 413, error: `body larger than ${maxBytes} bytes` } as const;
  const encoding = (request.headers.get("content-encoding") ?? "").trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity" && encoding !== "gzip" && encoding !== "x-gzip") {
    return { ok: false, status: 415, error: `Content-Encoding ${JSON.stringify(encoding)} is not supported: send the body as it is, or gzip-compressed` };
  }
  const bytes = await readBodyUpTo(request, maxBytes);
  if (bytes === "too large") return tooLarge;
  if (encoding !== "gzip" && encoding !== "x-gzip") return { ok: true, bytes };
  try {
    return { ok: true, bytes: gunzipSync(bytes, { maxOutputLength: maxBytes }) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") return { ...tooLarge, error: `body larger than ${maxBytes} bytes after gunzip` };
    return { ok: false, status: 400, error: "body is not valid gzip", reason: (error as Error).message };
  }
}

/** The message of a refused body, with its reason. */
export function bodyMessage(result: Extract<BodyResult, { ok: false }>): string {
  return result.reason ? `${result.error}: ${result.reason}` : result.error;
}

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
