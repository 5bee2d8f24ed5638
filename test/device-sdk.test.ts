import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { queryRows } from "../clickhouse/client";
import { DeviceAuthError, DeviceClient } from "../client/device";
import { freePort, queryStoppedClickhouse, runCli, spawnServer, waitForStatus } from "./support/process";
import { startTestServer } from "./support/server";

const PASSWORD = "correct horse battery";
const fast = { initialDelayMs: 20, maxDelayMs: 300 };

describe("the device SDK against a real server", () => {
  test("every recorded reading lands exactly once across a server crash and restart", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "verdant-sdk-"));
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port) };
    let server = await spawnServer(env);
    await waitForStatus(`${server.url}/readyz`, 200);
    const { token } = (await runCli(["device:create", "--name", "pi"], env)).json();

    const errors: string[] = [];
    const answers: string[] = [];
    const tracingFetch = Object.assign(
      async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await fetch(input, init);
        answers.push(`${response.status} ${await response.clone().text()}`);
        return response;
      },
      { preconnect: fetch.preconnect },
    ) as typeof fetch;
    const device = new DeviceClient({
      url: server.url,
      token,
      fetch: tracingFetch,
      batchSize: 250,
      flushIntervalMs: 20,
      retry: fast,
      bufferFile: path.join(dataDir, "device-buffer.json"),
      onError: (e) => errors.push(e.message),
    });
    device.start();
    const total = 6000;
    const start = Date.now() - 60 * 60 * 1000;
    for (let i = 0; i < total; i++) {
      device.record(i % 2 ? "soil1" : "temp", i, start + i);
      if (i % 100 === 99) await Bun.sleep(5);
      if (i === total / 2) {
        // Crash mid-stream: no graceful shutdown, batches in flight get no answer.
        server.proc.kill("SIGKILL");
        await server.proc.exited;
        await Bun.sleep(300);
        server = await spawnServer(env);
      }
    }
    await device.stop(60_000);
    expect(device.stats.buffered).toBe(0);
    expect(device.stats.dropped).toBe(0);
    expect(device.stats.accepted).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0); // the crash was felt, and retried through
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);

    const [stored] = await queryStoppedClickhouse<{ rows: string; distinct: string }>(
      dataDir,
      // The demo site's generated readings (batch "demo") are not the device's.
      "SELECT count() AS rows, uniqExact(sensor_id, ts, value) AS distinct FROM verdant.readings WHERE batch != xxHash64('demo')",
    );
    if (Number(stored!.rows) !== total) {
      const batches = await queryStoppedClickhouse<{ batch: string; n: string }>(dataDir, "SELECT toString(batch) AS batch, count() AS n FROM verdant.readings WHERE batch != xxHash64('demo') GROUP BY batch");
      console.error(JSON.stringify({ stats: device.stats, errors, answers: answers.filter((a) => !a.includes('"duplicates":0')), stored: batches }));
      console.error(server.logs.filter((l) => l.level !== "info").map((l) => JSON.stringify(l)).join("\n"));
    }
    expect(Number(stored!.rows)).toBe(total);
    expect(Number(stored!.distinct)).toBe(total);
    // A batch committed just before the crash, whose answer was lost, comes back as duplicates.
    expect(device.stats.accepted + device.stats.duplicates).toBe(total);
  }, 120_000);

  test("it honours Retry-After, drops refused batches with a report, and stops on a revoked token", async () => {
    const server = await startTestServer("pglite", { ingest: { maxQueueRows: 50, flushMs: 200 } });
    try {
      const owner = await server.client().auth.register.mutate({ email: "sdk@example.com", password: PASSWORD, displayName: "S", client: "app" });
      const api = server.client(owner.token!);
      const { device: d, token } = await api.devices.provision.mutate({ siteId: owner.personalSiteId, name: "d" });
      const drops: string[] = [];
      const responses: number[] = [];
      const recordingFetch: typeof fetch = Object.assign(async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await fetch(input, init);
        responses.push(response.status);
        return response;
      }, { preconnect: fetch.preconnect });
      const a = new DeviceClient({ url: server.url, token, batchSize: 40, retry: fast, fetch: recordingFetch, onDrop: (n, why) => drops.push(`${n}: ${why}`) });
      const b = new DeviceClient({ url: server.url, token, batchSize: 40, retry: fast, fetch: recordingFetch });
      const now = Date.now();
      for (let i = 0; i < 40; i++) {
        a.record("t", i, now - i);
        b.record("t", i, now - 1000 - i);
      }
      await Promise.all([a.flush(), b.flush()]);
      expect(responses).toContain(429);
      expect(a.stats.accepted + b.stats.accepted).toBe(80);
      // A reading the server refuses (far in the future) cannot be retried into success.
      a.record("t", 1, now + 24 * 3600_000);
      await a.flush();
      expect(drops).toHaveLength(1);
      expect(drops[0]).toContain("in the future");
      const ch = server.stores.clickhouse;
      void d;
      await server.settled();
      const [n] = await queryRows<{ n: string }>(ch, `SELECT count() AS n FROM ${ch.database}.readings`);
      expect(Number(n!.n)).toBe(80);

      await api.devices.revoke.mutate({ siteId: owner.personalSiteId, deviceId: d.id });
      a.record("t", 2, now);
      await expect(a.flush()).rejects.toBeInstanceOf(DeviceAuthError);
      expect(a.stats.buffered).toBe(1); // kept, for when the token is fixed
    } finally {
      await server.close();
    }
  });

  test("a buffer file carries unsent readings, and the in-flight batch id, across a device restart", async () => {
    const server = await startTestServer("pglite");
    try {
      const owner = await server.client().auth.register.mutate({ email: "file@example.com", password: PASSWORD, displayName: "F", client: "app" });
      const { device: d, token } = await server.client(owner.token!).devices.provision.mutate({ siteId: owner.personalSiteId, name: "d" });
      const file = path.join(mkdtempSync(path.join(tmpdir(), "verdant-buf-")), "buffer.json");
      // The first program sends a batch but "dies" before reading the answer.
      let sentBody = "";
      let delivered!: () => void;
      const firstDelivered = new Promise<void>((resolve) => (delivered = resolve));
      const dyingFetch = Object.assign(async (input: RequestInfo | URL, init?: RequestInit) => {
        await fetch(input, init);
        sentBody = "sent";
        delivered();
        throw new Error("power cut");
      }, { preconnect: fetch.preconnect }) as typeof fetch;
      const first = new DeviceClient({ url: server.url, token, batchSize: 10, retry: fast, bufferFile: file, fetch: dyingFetch, gzip: false });
      const now = Date.now();
      for (let i = 0; i < 25; i++) first.record("soil1", i, now - i * 1000);
      // However slow the machine, the server has committed that batch before the program "dies".
      void first.flush().catch(() => {});
      await firstDelivered;
      await first.stop(200);
      expect(sentBody).toBe("sent");
      expect(existsSync(file)).toBe(true);

      const second = new DeviceClient({ url: server.url, token, batchSize: 10, retry: fast, bufferFile: file });
      expect(second.stats.buffered).toBe(25);
      await second.flush();
      // The batch the first program sent is recognised, not stored again.
      expect(second.stats.duplicates).toBe(10);
      expect(second.stats.accepted).toBe(15);
      const ch = server.stores.clickhouse;
      void d;
      await server.settled();
      const [n] = await queryRows<{ n: string }>(ch, `SELECT count() AS n FROM ${ch.database}.readings`);
      expect(Number(n!.n)).toBe(25);
    } finally {
      await server.close();
    }
  });
});
