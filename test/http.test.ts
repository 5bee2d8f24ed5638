import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { postgresEngines } from "./support/stores";
import { startTestServer, type TestServer } from "./support/server";

for (const engine of postgresEngines) {
  describe(`HTTP entry points on ${engine}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(engine);
    });
    afterAll(() => server.close());

    test("/healthz answers while the process is alive", async () => {
      const response = await fetch(`${server.url}/healthz`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { status: string }).status).toBe("ok");
    });

    test("/readyz is 200 when both stores answer and are migrated", async () => {
      const response = await fetch(`${server.url}/readyz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ready", stores: { postgres: { ok: true }, clickhouse: { ok: true } } });
    });

    test("the typed client calls the health query over tRPC with superjson dates", async () => {
      const health = await server.client().health.query();
      expect(health.ok).toBe(true);
      expect(health.ready).toBe(true);
      expect(health.time).toBeInstanceOf(Date);
    });

    test("every response carries a request id, and a sane one from the client is kept", async () => {
      const own = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "trace-123" } });
      expect(own.headers.get("x-request-id")).toBe("trace-123");
      const hostile = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "not a valid id <script>" } });
      expect(hostile.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    });

    test("unknown paths get a JSON 404", async () => {
      const response = await fetch(`${server.url}/no/such/path`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "not found", details: { path: "/no/such/path" } });
    });

    test("an unknown procedure is a tRPC NOT_FOUND", async () => {
      const response = await fetch(`${server.url}/trpc/nope`);
      expect(response.status).toBe(404);
      const body = (await response.json()) as { error: { json: { data: { code: string } } } };
      expect(body.error.json.data.code).toBe("NOT_FOUND");
    });

    test("the admin endpoint does not exist without an admin secret", async () => {
      const response = await fetch(`${server.url}/admin/status`, { method: "POST" });
      expect(response.status).toBe(404);
    });
  });
}

describe("with Postgres unreachable", () => {
  test("procedures that need it answer 503 SERVICE_UNAVAILABLE, not 500", async () => {
    const { Stores } = await import("../server/platform/stores");
    const { createApp } = await import("../server/http/app");
    const { serveHttp } = await import("../server/http/listener");
    const { createLogger } = await import("../server/platform/logger");
    const { SiteDirectory } = await import("../server/sites");
    const { openTestClickhouse } = await import("./support/stores");
    const log = createLogger("silent");
    const ch = openTestClickhouse();
    const stores = new Stores(
      { openPostgres: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1")), openClickhouse: () => ch.clickhouse, demoData: false },
      log,
    );
    void stores.start();
    const app = createApp({ stores, log, directory: new SiteDirectory(() => stores.db) });
    const http = serveHttp({ port: 0, hostname: "127.0.0.1", log, handle: app.handle });
    try {
      const response = await fetch(`http://127.0.0.1:${http.port}/trpc/auth.me`, { headers: { authorization: "Bearer abc" } });
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { json: { message: string; data: { code: string } } } };
      expect(body.error.json.data.code).toBe("SERVICE_UNAVAILABLE");
      expect(body.error.json.message).toContain("postgres is not available: connect ECONNREFUSED");
    } finally {
      await http.stop(true);
      await ch.cleanup();
      await stores.close();
    }
  });
});

describe("JSON answers too big for Bun's cork buffer", () => {
  // After an await, Bun writes such an answer's headers in pieces (see oneSendForJson); the
  // listener hands them over as a stream instead. What the client receives must not change.
  const big = { values: Array.from({ length: 3000 }, (_, i) => ({ id: `sensor-${i}`, v: i * 1.5, note: i % 7 ? null : "ä € 🌱" })) };
  const small = { ok: true, note: "€" };
  let http: import("bun").Server<undefined>;
  let url: string;
  beforeAll(async () => {
    const { serveHttp } = await import("../server/http/listener");
    const { createLogger } = await import("../server/platform/logger");
    const later = () => new Promise((resolve) => setTimeout(resolve, 1));
    http = serveHttp({
      port: 0,
      hostname: "127.0.0.1",
      log: createLogger("silent"),
      handle: async (request) => {
        await later();
        const path = new URL(request.url).pathname;
        if (path === "/big") return new Response(JSON.stringify(big), { status: 201, headers: { "content-type": "application/json", "x-kept": "yes" } });
        if (path === "/small") return Response.json(small);
        if (path === "/csv") return new Response("a,b\n".repeat(10_000), { headers: { "content-type": "text/csv" } });
        // A stream that never ends: reading it whole would never answer.
        const type = path === "/events" ? "text/event-stream" : "application/jsonl";
        return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"first":1}\n')) }), { headers: { "content-type": type } });
      },
    });
    url = `http://127.0.0.1:${http.port}`;
  });
  afterAll(() => http.stop(true));

  test("a big one arrives whole and unchanged (chunked), with its status and headers", async () => {
    const response = await fetch(`${url}/big`);
    expect(response.status).toBe(201);
    expect(response.headers.get("x-kept")).toBe("yes");
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("transfer-encoding")).toBe("chunked");
    expect(response.headers.get("content-length")).toBeNull();
    expect(await response.json()).toEqual(big);
  });

  test("a small one is sent as it was, with its length", async () => {
    const response = await fetch(`${url}/small`);
    expect(response.headers.get("content-length")).toBe(String(new TextEncoder().encode(JSON.stringify(small)).byteLength));
    expect(await response.json()).toEqual(small);
  });

  test("other bodies, and streams that have not ended, are left alone", async () => {
    const csv = await fetch(`${url}/csv`);
    expect(csv.headers.get("content-length")).toBe(String(40_000));
    expect(await csv.text()).toBe("a,b\n".repeat(10_000));
    for (const path of ["/events", "/lines"]) {
      const response = await fetch(`${url}${path}`);
      const reader = response.body!.getReader();
      const { value } = await reader.read();
      expect(new TextDecoder().decode(value)).toBe('{"first":1}\n');
      await reader.cancel();
    }
  });
});
