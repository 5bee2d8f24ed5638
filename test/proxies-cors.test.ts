import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../server/platform/config";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { getQuery, postMutation } from "./support/trpc";

/**
 * Forwarded headers are believed only from TRUSTED_PROXIES; the CSRF check compares scheme, host
 * and port of the Origin with the server's own origin; CORS headers go to CORS_ORIGINS only.
 */

const PASSWORD = "correct horse battery";

async function cookieOf(server: TestServer, email: string, headers: Record<string, string> = {}) {
  await server.client().auth.register.mutate({ email, password: PASSWORD, displayName: "P", client: "app" });
  const login = await postMutation(server.url, "auth.login", { email, password: PASSWORD }, headers);
  expect(login.status).toBe(200);
  return login.headers.get("set-cookie")!.split(";")[0]!;
}

const loginFrom = (server: TestServer, email: string, forwardedFor: string) =>
  postMutation(server.url, "auth.login", { email, password: "wrong guess", client: "app" }, { "x-forwarded-for": forwardedFor });

for (const engine of postgresEngines) {
  describe(`with no trusted proxy (the default) on ${engine}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      // A clock that stands still: blocks last as long as the test needs them to.
      server = await startTestServer(engine, { now: testClock().now });
    });
    afterAll(() => server.close());

    test("a forged X-Forwarded-Host does not make a foreign Origin ours", async () => {
      const cookie = await cookieOf(server, "forged@example.com");
      const forged = await postMutation(server.url, "sites.create", { name: "Attic" }, {
        cookie,
        origin: "https://evil.example",
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "https",
      });
      expect(forged.status).toBe(403);
      const login = await postMutation(server.url, "auth.login", { email: "forged@example.com", password: PASSWORD }, {
        origin: "https://evil.example",
        "x-forwarded-host": "evil.example",
      });
      expect(login.status).toBe(403);
    });

    test("the Origin must match scheme, host and port, not the host alone", async () => {
      const cookie = await cookieOf(server, "scheme@example.com");
      const { host, port } = new URL(server.url);
      const otherScheme = await postMutation(server.url, "sites.create", { name: "A" }, { cookie, origin: `https://${host}` });
      expect(otherScheme.status).toBe(403);
      const otherPort = await postMutation(server.url, "sites.create", { name: "A" }, { cookie, origin: `http://127.0.0.1:${Number(port) + 1}` });
      expect(otherPort.status).toBe(403);
      const own = await postMutation(server.url, "sites.create", { name: "A" }, { cookie, origin: `http://${host}` });
      expect(own.status).toBe(200);
    });

    test("X-Forwarded-Proto from an untrusted peer does not mark the session cookie Secure", async () => {
      await server.client().auth.register.mutate({ email: "proto@example.com", password: PASSWORD, displayName: "P", client: "app" });
      const login = await postMutation(server.url, "auth.login", { email: "proto@example.com", password: PASSWORD }, { "x-forwarded-proto": "https" });
      expect(login.headers.get("set-cookie")).not.toContain("Secure");
    });

    test("X-Forwarded-For from an untrusted peer does not change the address throttling counts", async () => {
      let status = 0;
      for (let i = 0; i < 25 && status !== 429; i++) status = (await loginFrom(server, `untrusted${i}@example.com`, `203.0.113.${i}`)).status;
      // Twenty different claimed addresses, one real one: blocked as one address.
      expect(status).toBe(429);
    });

    test("no CORS header for any origin when none is configured", async () => {
      const answer = await getQuery(server.url, "health", { origin: "https://app.example" });
      expect(answer.headers.get("access-control-allow-origin")).toBeNull();
      const preflight = await fetch(`${server.url}/trpc/health`, {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "GET" },
      });
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    });
  });

  describe(`behind a trusted proxy on ${engine}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(engine, { now: testClock().now, trustedProxies: ["127.0.0.1"], corsOrigins: ["https://app.example"] });
    });
    afterAll(() => server.close());

    test("the proxy's X-Forwarded-Host and -Proto define our origin", async () => {
      const proxied = { "x-forwarded-host": "plants.example", "x-forwarded-proto": "https" };
      const cookie = await cookieOf(server, "proxied@example.com", proxied);
      const own = await postMutation(server.url, "sites.create", { name: "A" }, { cookie, ...proxied, origin: "https://plants.example" });
      expect(own.status).toBe(200);
      // Scheme still counts: the browser is on https, an http page of the same host is another origin.
      const plain = await postMutation(server.url, "sites.create", { name: "A" }, { cookie, ...proxied, origin: "http://plants.example" });
      expect(plain.status).toBe(403);
      const tls = await postMutation(server.url, "auth.login", { email: "proxied@example.com", password: PASSWORD }, proxied);
      expect(tls.headers.get("set-cookie")).toContain("Secure");
    });

    test("throttling counts the client the proxy names, not the proxy, and not what the client made up", async () => {
      let status = 0;
      let attempts = 0;
      while (status !== 429 && attempts < 25) status = (await loginFrom(server, `victim${attempts++}@example.com`, "198.51.100.7")).status;
      expect(status).toBe(429);
      // Another client behind the same proxy is not blocked …
      expect((await loginFrom(server, "someone@example.com", "198.51.100.8")).status).toBe(401);
      // … and the blocked one cannot escape by prepending an address of its choice: the proxy appended the real one.
      expect((await loginFrom(server, "someone@example.com", "192.0.2.1, 198.51.100.7")).status).toBe(429);
    });

    test("a listed origin gets CORS headers with credentials, on preflight and answer; an unlisted one none", async () => {
      const preflight = (origin: string) =>
        fetch(`${server.url}/trpc/sites.create`, {
          method: "OPTIONS",
          headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
        });
      const listed = await preflight("https://app.example");
      expect(listed.status).toBe(204);
      expect(listed.headers.get("access-control-allow-origin")).toBe("https://app.example");
      expect(listed.headers.get("access-control-allow-credentials")).toBe("true");
      expect(listed.headers.get("access-control-allow-methods")).toContain("POST");
      expect(listed.headers.get("access-control-allow-headers")).toContain("content-type");
      const unlisted = await preflight("https://evil.example");
      expect(unlisted.headers.get("access-control-allow-origin")).toBeNull();
      expect(unlisted.headers.get("access-control-allow-credentials")).toBeNull();

      const answer = await getQuery(server.url, "health", { origin: "https://app.example" });
      expect(answer.headers.get("access-control-allow-origin")).toBe("https://app.example");
      expect(answer.headers.get("access-control-allow-credentials")).toBe("true");
      expect(answer.headers.get("vary")).toContain("origin");
      const foreign = await getQuery(server.url, "health", { origin: "https://evil.example" });
      expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    });

    test("a listed origin may change things with the session cookie; an unlisted one may not", async () => {
      const cookie = await cookieOf(server, "cors@example.com");
      expect((await postMutation(server.url, "sites.create", { name: "A" }, { cookie, origin: "https://app.example" })).status).toBe(200);
      expect((await postMutation(server.url, "sites.create", { name: "A" }, { cookie, origin: "https://evil.example" })).status).toBe(403);
    });
  });
}

describe("TRUSTED_PROXIES and CORS_ORIGINS settings", () => {
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  test("none by default; IPs and CIDR ranges, IPv4 and IPv6", () => {
    const defaults = loadConfig({});
    expect(defaults.http.trustedProxies.entries).toEqual([]);
    expect(defaults.http.cors.origins).toEqual([]);
    const proxies = loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8, 192.168.1.10 ::1 fd00::/8" }).http.trustedProxies;
    expect(["10.1.2.3", "192.168.1.10", "::1", "fd12::5", "::ffff:10.9.9.9"].map((a) => proxies.contains(a))).toEqual([true, true, true, true, true]);
    expect(["11.0.0.1", "192.168.1.11", "::2", "not an ip"].map((a) => proxies.contains(a))).toEqual([false, false, false, false]);
  });

  test("a malformed entry is refused, naming the variable and the entry", () => {
    for (const bad of ["10.0.0.0/33", "proxy.local", "10.0.0.1/8/1", "1.2.3"]) {
      const problems = problemsOf({ TRUSTED_PROXIES: `127.0.0.1, ${bad}` });
      expect(problems).toEqual([{ variable: "TRUSTED_PROXIES", message: expect.stringContaining(JSON.stringify(bad)) }]);
    }
    for (const bad of ["*", "https://app.example/path", "app.example", "ftp://app.example"]) {
      expect(problemsOf({ CORS_ORIGINS: bad }).map((p) => p.variable)).toEqual(["CORS_ORIGINS"]);
    }
    expect(loadConfig({ CORS_ORIGINS: "https://app.example/, http://localhost:5173" }).http.cors.origins).toEqual(["https://app.example", "http://localhost:5173"]);
  });
});
