import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { WEB_DIST_DIR, WebBundle, resolveInside } from "../server/http/web-bundle";
import { startTestServer, type TestServer } from "./support/server";

/**
 * The dashboard bundle served by the real app (web/dist, built by `npm install` / `npm test`):
 * caching, the client-route fallback, API paths keeping their own 404s, and no path leaving the
 * bundle directory — through real HTTP, raw request lines included.
 */

const ROOT = path.resolve(import.meta.dir, "..");
const PACKAGE_JSON = readFileSync(path.join(ROOT, "package.json"), "utf8");

/** A request line sent as written (fetch and URL would normalise `..` away before it left). */
function rawGet(url: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = [`GET ${target} HTTP/1.1`, `Host: ${hostname}:${port}`, "Connection: close", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    let data = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => (data += chunk));
    socket.on("end", () => {
      const split = data.indexOf("\r\n\r\n");
      const head = data.slice(0, split);
      resolve({ status: Number(head.split(" ")[1]), head, body: data.slice(split + 4) });
    });
    socket.on("error", reject);
  });
}

describe("the dashboard bundle", () => {
  let server: TestServer;
  let assetPath: string;

  beforeAll(async () => {
    if (!existsSync(path.join(WEB_DIST_DIR, "index.html"))) throw new Error("web/dist is not built: run `npm run build:web` (npm test builds it first)");
    server = await startTestServer("pglite");
    const index = await (await fetch(`${server.url}/`)).text();
    assetPath = index.match(/src="(\/assets\/[^"]+\.js)"/)![1]!;
  });
  afterAll(() => server.close());

  test("/ is index.html, revalidated on every load, with a content security policy", async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/html");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(await response.text()).toContain('<div id="root"></div>');
    // Unchanged: a 304 without a body.
    const again = await fetch(`${server.url}/`, { headers: { "if-none-match": response.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  test("hashed assets are cached for a year as immutable, and sent compressed to browsers that accept it", async () => {
    expect(assetPath).toMatch(/^\/assets\/[\w-]+-[\w-]{6,}\.js$/);
    const plain = await fetch(`${server.url}${assetPath}`, { headers: { "accept-encoding": "identity" } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(plain.headers.get("content-type")).toContain("javascript");
    expect(plain.headers.get("content-encoding")).toBeNull();
    const text = await plain.text();
    for (const encoding of ["br", "gzip"]) {
      const compressed = await fetch(`${server.url}${assetPath}`, { headers: { "accept-encoding": encoding } });
      expect(compressed.headers.get("content-encoding")).toBe(encoding);
      expect(compressed.headers.get("vary")).toBe("accept-encoding");
      expect(await compressed.text()).toBe(text); // fetch decompresses: the same script
    }
    const head = await fetch(`${server.url}${assetPath}`, { method: "HEAD", headers: { "accept-encoding": "identity" } });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBe(Buffer.byteLength(text));
  });

  test("a client route asked for as a page gets index.html; a missing file does not", async () => {
    const page = await fetch(`${server.url}/s/5b0c3a6e-0000-4000-8000-000000000000/plants/abc?range=7d`, { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(await page.text()).toContain('<div id="root"></div>');
    const notPage = await fetch(`${server.url}/s/x/plants`, { headers: { accept: "application/json" } });
    expect(notPage.status).toBe(404);
    const missingAsset = await fetch(`${server.url}/assets/missing-abc123.js`, { headers: { accept: "text/html" } });
    expect(missingAsset.status).toBe(404);
    expect(await missingAsset.json()).toEqual({ error: "not found", details: { path: "/assets/missing-abc123.js" } });
  });

  test("API paths keep their own answers and 404s, even when a browser asks for HTML", async () => {
    const html = { accept: "text/html" };
    expect(await (await fetch(`${server.url}/healthz`, { headers: html })).json()).toMatchObject({ status: "ok" });
    // The InfluxDB-compatible endpoints answer as InfluxDB does (a ping is 204, health is JSON).
    expect((await fetch(`${server.url}/ping`, { headers: html })).status).toBe(204);
    expect((await fetch(`${server.url}/health`, { headers: html })).headers.get("content-type")).toStartWith("application/json");
    for (const p of ["/v1/nope", "/admin/status", "/api/v2/query", "/write", "/ping/x", "/health/x", "/query/x", "/readyz/x"]) {
      const response = await fetch(`${server.url}${p}`, { headers: html });
      expect(`${p} ${response.status}`).toBe(`${p} 404`);
      expect(await response.json()).toEqual({ error: "not found", details: { path: p } });
    }
    // tRPC answers its own unknown procedures; the bundle never shadows /trpc.
    const trpc = await fetch(`${server.url}/trpc/nope.nothing`, { headers: html });
    expect(trpc.status).toBe(404);
    expect(((await trpc.json()) as { error: { json: { data: { code: string } } } }).error.json.data.code).toBe("NOT_FOUND");
    expect((await fetch(`${server.url}/trpc/health`)).status).toBe(200);
    // Other methods on unknown paths: a 404, the body never read.
    const post = await fetch(`${server.url}/somewhere`, { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    expect(post.status).toBe(404);
  });

  test("no request path leaves the bundle directory", async () => {
    const attempts = [
      "/../package.json",
      "/../../package.json",
      "/assets/../../package.json",
      "/..%2fpackage.json",
      "/..%2f..%2fpackage.json",
      "/assets/..%2f..%2fpackage.json",
      "/%2e%2e/%2e%2e/package.json",
      "/%2e%2e%2f%2e%2e%2fpackage.json",
      "/assets/%5c..%5c..%5cpackage.json",
      "/..\\..\\package.json",
      "/%00/../package.json",
      "//package.json",
      "/.build-hash",
      "/%2ebuild-hash",
      "/web/dist/index.html",
      "/%ff",
    ];
    for (const target of attempts) {
      for (const accept of ["*/*", "text/html"]) {
        const response = await rawGet(server.url, target, { accept });
        expect(response.body).not.toContain('"name": "verdant"');
        expect(response.body).not.toContain(PACKAGE_JSON.slice(0, 40));
        // Either refused, or (a browser navigating) the dashboard's own page: never another file.
        if (response.status === 200) expect(response.body).toContain('<div id="root"></div>');
        else expect([400, 404]).toContain(response.status);
      }
    }
  });
});

describe("serving rules without a server", () => {
  let dir: string;
  let outside: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "verdant-web-"));
    outside = mkdtempSync(path.join(tmpdir(), "verdant-outside-"));
    mkdirSync(path.join(dir, "dist", "assets"), { recursive: true });
    writeFileSync(path.join(dir, "dist", "index.html"), "<!doctype html><div id=root></div>");
    writeFileSync(path.join(dir, "dist", "assets", "app-1a2b3c.js"), "console.log(1)");
    writeFileSync(path.join(outside, "secret.txt"), "not for browsers");
    // A symlink planted in the bundle must not lead out of it.
    symlinkSync(path.join(outside, "secret.txt"), path.join(dir, "dist", "assets", "escape.js"));
    writeFileSync(path.join(dir, "dist-sibling.txt"), "beside the bundle");
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const get = (bundle: WebBundle, p: string, accept = "*/*") => bundle.respond(new Request(`http://localhost${p}`, { headers: { accept } }));

  test("resolveInside refuses every way out and hidden files", () => {
    const root = path.join(dir, "dist");
    expect(resolveInside(root, "/assets/app-1a2b3c.js")).toBe(path.join(root, "assets", "app-1a2b3c.js"));
    for (const p of ["/..", "/../dist-sibling.txt", "/..%2fdist-sibling.txt", "/assets/%2e%2e/%2e%2e/dist-sibling.txt", "/a%5c..%5c..", "/.hidden", "/x%00y", "/%E0%A4%A"]) {
      expect(`${p} → ${resolveInside(root, p)}`).toBe(`${p} → null`);
    }
  });

  test("a symlink out of the bundle is not followed; a missing bundle says how to build it", async () => {
    const bundle = new WebBundle(path.join(dir, "dist"));
    expect(get(bundle, "/assets/escape.js")).toBeNull();
    expect(await get(bundle, "/assets/app-1a2b3c.js")!.text()).toBe("console.log(1)");
    expect(get(bundle, "/../dist-sibling.txt")).toBeNull();
    const missing = new WebBundle(path.join(dir, "nothing-here"));
    const response = get(missing, "/", "text/html")!;
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("npm run build:web");
  });
});
