import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppClient } from "../client";
import { freePort, queryStoppedClickhouse, spawnServer, waitForStatus, type ServerProcess } from "./support/process";

/**
 * What an acknowledgement survives, on real server processes killed with SIGKILL (no shutdown, no
 * flush, no checkpoint): every acknowledged reading is in ClickHouse exactly once after a restart,
 * in raw data and in every rollup alike, whether or not the readings carried timestamps; and a
 * batch acknowledged just before the crash is still judged by the automation.
 */

const PASSWORD = "correct horse battery";
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string, port: number, extra: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await spawnServer({ DATA_DIR: dataDir, PORT: String(port), DEMO_DATA: "false", LOG_LEVEL: "info", AUTOMATION_TICK_SECONDS: "3600", ...extra });
  await waitForStatus(`${server.url}/readyz`, 200, 60_000);
  return server;
}

async function crash(server: ServerProcess): Promise<void> {
  server.proc.kill("SIGKILL");
  await server.proc.exited;
}

async function stop(server: ServerProcess): Promise<void> {
  server.proc.kill("SIGTERM");
  expect(await server.proc.exited).toBe(0);
}

async function account(url: string, email: string) {
  const owner = await createAppClient({ url }).auth.register.mutate({ email, password: PASSWORD, displayName: "C", client: "app" });
  const api = createAppClient({ url, token: owner.token!, batch: false });
  const { device, token } = await api.devices.provision.mutate({ siteId: owner.personalSiteId, name: "crash-test" });
  return { api, siteId: owner.personalSiteId, deviceId: device.id, token };
}

const ingest = (url: string, token: string, body: unknown) =>
  fetch(`${url}/v1/ingest`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

describe("ingest across crashes (real processes, SIGKILL)", () => {
  test("a batch without timestamps, retried after a crash, is stored once", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "verdant-crash-nots-"));
    dirs.push(dataDir);
    const port = await freePort();
    let server = await start(dataDir, port);
    const { token } = await account(server.url, "nots@example.com");
    const body = { batchId: "no-ts-1", readings: [{ sensor: "soil1", value: 41 }, { sensor: "temp", value: 21 }, { sensor: "hum", value: 55 }, { sensor: "lux", value: 800 }] };
    expect(await (await ingest(server.url, token, body)).json()).toMatchObject({ accepted: 4, duplicates: 0 });
    await crash(server);
    server = await start(dataDir, port);
    // The device never got its answer (say) and sends the same batch again, without timestamps.
    expect(await (await ingest(server.url, token, body)).json()).toMatchObject({ accepted: 0, duplicates: 4 });
    await stop(server);
    const [rows] = await queryStoppedClickhouse<{ n: number }>(dataDir, "SELECT count() AS n FROM verdant.readings");
    expect(Number(rows!.n)).toBe(4);
  }, 180_000);

  test("raw data and every rollup hold exactly the acknowledged readings after repeated kills mid-INSERT", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "verdant-crash-rollups-"));
    dirs.push(dataDir);
    const port = await freePort();
    // Small, frequent flushes: a kill lands in the middle of an INSERT as often as possible.
    const env = { INGEST_FLUSH_MS: "20", INGEST_FLUSH_ROWS: "2000" };
    let server = await start(dataDir, port, env);
    const { token } = await account(server.url, "rollups@example.com");
    const base = Math.floor((Date.now() - 6 * 3600_000) / 60_000) * 60_000;
    let acknowledged = 0;
    let sum = 0;
    let next = 0;
    let pending: { batchId: string; readings: { sensor: string; ts: number; value: number }[] } | undefined;
    const kills = 5;
    for (let round = 0; round <= kills; round++) {
      const until = Date.now() + 1_500;
      const sending = (async () => {
        while (Date.now() < until) {
          // The batch in hand is sent again (same id) until it is acknowledged: a careful device.
          if (!pending) {
            pending = {
              batchId: `r-${next}`,
              readings: Array.from({ length: 200 }, (_, i) => ({ sensor: `s${i % 10}`, ts: base + next * 1000 + i, value: (next * 7 + i) % 97 })),
            };
            next++;
          }
          try {
            const response = await ingest(server.url, token, pending);
            if (response.status !== 200) continue;
            // Accepted now, or a duplicate of an attempt whose answer the crash cut off: stored once either way.
            const receipt = (await response.json()) as { accepted: number; duplicates: number };
            expect(receipt.accepted + receipt.duplicates).toBe(pending.readings.length);
            acknowledged += pending.readings.length;
            sum += pending.readings.reduce((s, r) => s + r.value, 0);
            pending = undefined;
          } catch {
            return; // the server died under us: this batch is retried after the restart
          }
        }
      })();
      if (round < kills) {
        await Bun.sleep(300 + Math.floor(Math.random() * 900));
        await crash(server);
        await sending;
        server = await start(dataDir, port, env);
      } else {
        await sending;
      }
    }
    expect(acknowledged).toBeGreaterThan(0);
    await stop(server);
    const q = <T>(sql: string) => queryStoppedClickhouse<T>(dataDir, sql);
    const [raw] = await q<{ n: number; s: number }>("SELECT count() AS n, sum(value) AS s FROM verdant.readings");
    const [m1] = await q<{ n: number; s: number }>("SELECT sum(count) AS n, sum(sum_value) AS s FROM verdant.readings_1m");
    const [h1] = await q<{ n: number; s: number }>("SELECT sum(count) AS n, sum(sum_value) AS s FROM verdant.readings_1h");
    const [latest] = await q<{ n: number }>("SELECT count() AS n FROM (SELECT sensor_id FROM verdant.readings_latest FINAL)");
    const [batches] = await q<{ n: number; rows: number }>("SELECT count() AS n, sum(rows) AS rows FROM verdant.batches");
    expect({ raw: Number(raw!.n), m1: Number(m1!.n), h1: Number(h1!.n), batches: Number(batches!.rows) }).toEqual({
      raw: acknowledged,
      m1: acknowledged,
      h1: acknowledged,
      batches: acknowledged,
    });
    expect(Number(raw!.s)).toBeCloseTo(sum, 6);
    expect(Number(m1!.s)).toBeCloseTo(sum, 6);
    expect(Number(h1!.s)).toBeCloseTo(sum, 6);
    expect(Number(latest!.n)).toBe(10);
  }, 600_000);

  test("a batch acknowledged just before a crash is judged after the restart", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "verdant-crash-judge-"));
    dirs.push(dataDir);
    const port = await freePort();
    // A long flush interval: the kill lands after the acknowledgement, before the batch reaches
    // ClickHouse or the engine.
    const env = { INGEST_FLUSH_MS: "5000" };
    let server = await start(dataDir, port, env);
    const { api, siteId, token } = await account(server.url, "judge@example.com");
    const sensorBody = { batchId: "first", readings: [{ sensor: "temp", ts: Date.now() - 60_000, value: 20 }] };
    expect((await ingest(server.url, token, sensorBody)).status).toBe(200);
    const sensor = (await api.sensors.list.query({ siteId })).items.find((s) => s.key === "temp")!;
    await api.rules.create.mutate({
      siteId,
      name: "Too hot",
      kind: "threshold",
      target: { type: "sensor", sensorId: sensor.id },
      comparison: "above",
      threshold: 30,
      actions: [{ type: "alert", severity: "warning", title: "too hot: {value}" }],
    });
    expect(await (await ingest(server.url, token, { batchId: "hot", readings: [{ sensor: "temp", ts: Date.now(), value: 35 }] })).json()).toMatchObject({ accepted: 1 });
    await crash(server);
    server = await start(dataDir, port, env);
    try {
      const restarted = createAppClient({ url: server.url, token: (await createAppClient({ url: server.url }).auth.login.mutate({ email: "judge@example.com", password: PASSWORD, client: "app" })).token!, batch: false });
      let alerts: { title: string }[] = [];
      for (let i = 0; i < 200 && alerts.length === 0; i++) {
        alerts = (await restarted.alerts.list.query({ siteId, status: "active" })).items;
        if (alerts.length === 0) await Bun.sleep(100);
      }
      expect(alerts.map((a) => a.title)).toEqual(["too hot: 35"]);
    } finally {
      await stop(server);
    }
  }, 180_000);
});
