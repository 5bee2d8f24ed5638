import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A real HTTP receiver for webhook tests. It checks signatures on its own (node:crypto, not the
 * server's signing code) with the secrets the test gives it, and can fail the first N requests.
 */

export interface Received {
  deliveryId: string;
  event: string;
  /** Epoch seconds from the signature. */
  signedAt: number;
  signatureValid: boolean;
  body: { id: string; event: string; severity: string; siteId: string; createdAt: string; data: Record<string, any> };
  answered: number;
  raw: string;
  signature: string | null;
}

export function verifySignature(secret: string, header: string | null, rawBody: string): { valid: boolean; t: number } {
  const parts = Object.fromEntries((header ?? "").split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  const expected = createHmac("sha256", secret).update(`${parts.t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? "", "hex");
  return { valid: given.length === expected.length && timingSafeEqual(given, expected), t };
}

export function startReceiver() {
  const received: Received[] = [];
  let secrets: string[] = [];
  let failures = 0;
  let failStatus = 500;
  let delayMs = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const raw = await request.text();
      const header = request.headers.get("x-verdant-signature");
      const checks = secrets.map((s) => verifySignature(s, header, raw));
      const answered = failures > 0 ? failStatus : 204;
      if (failures > 0) failures -= 1;
      received.push({
        deliveryId: request.headers.get("x-verdant-delivery") ?? "",
        event: request.headers.get("x-verdant-event") ?? "",
        signedAt: checks[0]?.t ?? NaN,
        signatureValid: checks.some((c) => c.valid),
        body: JSON.parse(raw),
        answered,
        raw,
        signature: header,
      });
      if (delayMs) await Bun.sleep(delayMs);
      return answered === 204 ? new Response(null, { status: 204 }) : new Response("receiver is down", { status: answered });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    received,
    /** The secrets a valid signature may use. */
    trust(...list: string[]) {
      secrets = list;
    },
    failNext(n: number, status = 500) {
      failures = n;
      failStatus = status;
    },
    slow(ms: number) {
      delayMs = ms;
    },
    clear() {
      received.length = 0;
    },
    stop: () => server.stop(true),
  };
}
