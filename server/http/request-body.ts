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

/**
 * A device's request body as bytes, gunzipped when `Content-Encoding: gzip`, refused past
 * `maxBytes` before and after decompression (a small gzip bomb stops at the limit instead of
 * inflating into gigabytes) and refused with 415 for encodings we do not read. One place for
 * POST /v1/ingest and the InfluxDB write endpoints.
 */
export async function readRequestBody(request: Request, maxBytes: number): Promise<BodyResult> {
  const tooLarge = { ok: false, status: 413, error: `body larger than ${maxBytes} bytes` } as const;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return tooLarge;
  const encoding = (request.headers.get("content-encoding") ?? "").trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity" && encoding !== "gzip" && encoding !== "x-gzip") {
    return { ok: false, status: 415, error: `unsupported Content-Encoding '${encoding}': send gzip or identity` };
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > maxBytes) return tooLarge;
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
