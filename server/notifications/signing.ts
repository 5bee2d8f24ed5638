import { createHmac, randomBytes } from "node:crypto";

/**
 * Webhook signatures: `X-Verdant-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * Signing the timestamp with the body lets receivers refuse replays of an old delivery.
 */

export const SIGNATURE_HEADER = "x-verdant-signature";

export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export const secretHintOf = (secret: string) => `${secret.slice(0, 10)}…`;

export function signatureHeader(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${v1}`;
}
