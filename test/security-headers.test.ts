import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/** Every response, whatever its route or status, carries the security headers; HSTS only over HTTPS. */

const requests: [string, string, RequestInit?][] = [
  ["health check", "/healthz"],
  ["tRPC query", "/trpc/health"],
  ["tRPC error", "/trpc/auth.me"],
  ["unknown path", "/no/such/page"],
  ["device endpoint without a token", "/v1/ingest", { method: "POST", body: "{}" }],
  ["export without a session", "/v1/export"],
  ["CORS preflight", "/trpc/health", { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "GET" } }],
];

function expectSecurityHeaders(response: Response) {
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  const csp = response.headers.get("content-security-policy") ?? "";
  const directives = Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(" ")]));
  expect(directives).toMatchObject({
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: https:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
  });
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).not.toContain("unsafe-eval");
}

for (const engine of postgresEngines) {
  describe(`security headers on ${engine}`, () => {
    let server: TestServer;
    let proxied: TestServer;
    beforeAll(async () => {
      server = await startTestServer(engine);
      proxied = await startTestServer(engine, { trustedProxies: ["127.0.0.1"] });
    });
    afterAll(async () => {
      await server.close();
      await proxied.close();
    });

    for (const [name, path, init] of requests) {
      test(`${name}: nosniff, referrer policy, CSP, no framing; no HSTS over plain HTTP`, async () => {
        const response = await fetch(`${server.url}${path}`, init);
        expectSecurityHeaders(response);
        expect(response.headers.get("strict-transport-security")).toBeNull();
      });
    }

    test("HSTS only when the client came over HTTPS through a trusted proxy, never on an untrusted claim", async () => {
      const https = { headers: { "x-forwarded-proto": "https" } };
      const viaProxy = await fetch(`${proxied.url}/healthz`, https);
      expectSecurityHeaders(viaProxy);
      expect(viaProxy.headers.get("strict-transport-security")).toBe("max-age=31536000");
      expect((await fetch(`${proxied.url}/healthz`)).headers.get("strict-transport-security")).toBeNull();
      expect((await fetch(`${server.url}/healthz`, https)).headers.get("strict-transport-security")).toBeNull();
    });
  });
}
