import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import pino from "pino";
import { siteFixture, type SiteFixture } from "./support/site-fixture";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * Device endpoints at their edges: a revoked device's open long poll ends at once with 403 (on
 * any server), an oversized chunked body is a handled 413 in the answer and the log, and bodies
 * compressed with anything but gzip are refused with 415 naming what is supported.
 */

const MiB = 1024 * 1024;

/** A chunked body (no Content-Length) of `bytes` spaces, sent as it is produced. */
function chunkedBody(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(256 * 1024).fill(32);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
}

interface LogLine {
  level: number;
  msg: string;
  status?: number;
  path?: string;
}

for (const engine of postgresEngines) {
  describe(`device requests at the edges on ${engine}`, () => {
    let server: TestServer;
    const lines: LogLine[] = [];
    beforeAll(async () => {
      const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
      server = await startTestServer(engine, { log });
    });
    afterAll(() => server.close());

    const poll = (url: string, device: Device, wait = 20) => fetch(`${url}/v1/commands?wait=${wait}`, { headers: { authorization: `Bearer ${device.token}` } });

    interface Device {
      id: string;
      token: string;
    }
    /** A new device with nothing queued for it: its long poll waits. */
    async function idleDevice(fx: SiteFixture): Promise<Device> {
      const { device, token } = await server.client(fx.token).devices.provision.mutate({ siteId: fx.siteId, name: "waiting" });
      return { id: device.id, token };
    }

    test("revoking a device ends its open long poll at once with 403", async () => {
      const fx = await siteFixture(server);
      const device = await idleDevice(fx);
      const started = performance.now();
      const waiting = poll(server.url, device);
      await Bun.sleep(300);
      await server.client(fx.token).devices.revoke.mutate({ siteId: fx.siteId, deviceId: device.id });
      const answer = await waiting;
      expect(answer.status).toBe(403);
      expect(await answer.json()).toMatchObject({ error: "device revoked" });
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    test("revoked on one server, the poll held by another ends too, and its cached token stops working at once", async () => {
      const fx = await siteFixture(server);
      const device = await idleDevice(fx);
      const peer = await server.peer();
      try {
        // The peer has seen the token (cached for 30 s) before the revocation.
        expect((await poll(peer.url, device, 0)).status).toBe(200);
        const started = performance.now();
        const waiting = poll(peer.url, device);
        await Bun.sleep(300);
        await server.client(fx.token).devices.revoke.mutate({ siteId: fx.siteId, deviceId: device.id });
        expect((await waiting).status).toBe(403);
        expect(performance.now() - started).toBeLessThan(5_000);
        expect((await poll(peer.url, device, 0)).status).toBe(403);
      } finally {
        await peer.close();
      }
    });

    test("rotating the token ends the old token's long poll with 401", async () => {
      const fx = await siteFixture(server);
      const device = await idleDevice(fx);
      const waiting = poll(server.url, device);
      await Bun.sleep(300);
      await server.client(fx.token).devices.rotateToken.mutate({ siteId: fx.siteId, deviceId: device.id });
      expect((await waiting).status).toBe(401);
    });

    test("a chunked body over the limit gets 413 and is logged as a handled 413, not as a failure", async () => {
      const fx = await siteFixture(server);
      lines.length = 0;
      const headers = { authorization: `Bearer ${fx.deviceToken}`, "content-type": "application/json" };
      // Past the ingest limit (4 MiB here), and past the listener's 8 MiB that Bun itself enforces.
      for (const size of [5 * MiB, 9 * MiB]) {
        const answer = await fetch(`${server.url}/v1/ingest`, { method: "POST", headers, body: chunkedBody(size) });
        expect(answer.status).toBe(413);
      }
      const trpc = await fetch(`${server.url}/trpc/plants.create`, {
        method: "POST",
        headers: { authorization: `Bearer ${fx.token}`, "content-type": "application/json" },
        body: chunkedBody(9 * MiB),
      });
      expect(trpc.status).toBe(413);
      await Bun.sleep(50); // access lines are written just after the answer
      expect(lines.filter((l) => l.level >= 50).map((l) => JSON.stringify(l).slice(0, 400))).toEqual([]);
      // This test's requests (an earlier test's long poll may still be logging its end).
      const requests = lines.filter((l) => l.msg === "request" && (l.path === "/v1/ingest" || l.path === "/trpc/plants.create"));
      expect(requests.map((l) => [l.path, l.status])).toEqual([
        ["/v1/ingest", 413],
        ["/v1/ingest", 413],
        ["/trpc/plants.create", 413],
      ]);
    });

    test("deflate and brotli bodies are refused with 415 naming the supported encodings; gzip works", async () => {
      const fx = await siteFixture(server);
      const batch = JSON.stringify({ batchId: "enc-1", readings: [{ sensor: "soil1", value: 40 }] });
      for (const encoding of ["deflate", "br", "zstd"]) {
        const answer = await fetch(`${server.url}/v1/ingest`, {
          method: "POST",
          headers: { authorization: `Bearer ${fx.deviceToken}`, "content-type": "application/json", "content-encoding": encoding },
          body: batch,
        });
        expect(answer.status).toBe(415);
        expect(answer.headers.get("accept-encoding")).toBe("gzip");
        const body = (await answer.json()) as { error: string; details: { supported: string[] } };
        expect(body.error).toContain(encoding);
        expect(body.details.supported).toEqual(["gzip", "identity"]);
      }
      const gzipped = await fetch(`${server.url}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${fx.deviceToken}`, "content-type": "application/json", "content-encoding": "gzip" },
        body: gzipSync(batch),
      });
      expect(gzipped.status).toBe(200);
      expect(await gzipped.json()).toMatchObject({ accepted: 1 });
    });
  });
}
