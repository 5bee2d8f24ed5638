import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import { createAppClient, type AppClient } from "../../client";
import { childEnv, freePort, queryStoppedClickhouse, waitForStatus } from "../../test/support/process";

/**
 * Verdant as the benchmarks run it: `bun server/main.ts` (the command a user runs) on fresh
 * embedded stores in a temporary DATA_DIR, reached only through its public entry points (HTTP,
 * the typed client). Its log goes to a file: following it here would put log parsing on the
 * event loop of the process that times calls.
 */

const ROOT = path.resolve(import.meta.dir, "../..");

export interface Verdant {
  url: string;
  pid: number;
  dataDir: string;
  /** Stops it as a service manager does (SIGTERM) and fails unless it exits cleanly. */
  stop(): Promise<void>;
  /** JSON log lines written so far. */
  logs(): Record<string, unknown>[];
  /** Removes its data directory. */
  remove(): void;
}

export async function startVerdant(env: Record<string, string> = {}, bunFlags: string[] = []): Promise<Verdant> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), "verdant-bench-"));
  const port = await freePort();
  const logFile = path.join(dataDir, "server.log");
  const fd = openSync(logFile, "a");
  const proc: Subprocess = Bun.spawn([process.execPath, ...bunFlags, "server/main.ts"], {
    cwd: ROOT,
    env: childEnv({ DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info", DEMO_DATA: "false", ...env }),
    stdin: "ignore",
    stdout: fd,
    stderr: "inherit",
  });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForStatus(`${url}/readyz`, 200, 180_000),
    proc.exited.then((code) => {
      throw new Error(`the server exited with ${code} while starting; see ${logFile}`);
    }),
  ]);
  const logs = () =>
    readFileSync(logFile, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  return {
    url,
    pid: proc.pid,
    dataDir,
    async stop() {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      if (code !== 0) throw new Error(`the server did not stop cleanly (exit ${code}); see ${logFile}`);
    },
    logs,
    remove: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

export interface BenchAccount {
  api: AppClient;
  token: string;
  siteId: string;
}

/** An account (its personal site in `timezone`), through the typed client. */
export async function registerAccount(url: string, email: string, timezone = "UTC"): Promise<BenchAccount> {
  const account = await createAppClient({ url }).auth.register.mutate({ email, password: "benchmark password", displayName: "Bench", timezone, client: "app" });
  return { api: createAppClient({ url, token: account.token!, batch: false }), token: account.token!, siteId: account.personalSiteId };
}

/** Devices named `${prefix}${i}`, provisioned through the typed client: their ids and tokens, in order. */
export async function provisionDevices(api: AppClient, siteId: string, prefix: string, count: number): Promise<{ id: string; name: string; token: string }[]> {
  const out: { id: string; name: string; token: string }[] = [];
  for (let i = 0; i < count; i++) {
    const { device, token } = await api.devices.provision.mutate({ siteId, name: `${prefix}${i}` });
    out.push({ id: device.id, name: `${prefix}${i}`, token });
  }
  return out;
}

/** Every sensor of a site (id, device, key), through the typed client. */
export async function listSensors(api: AppClient, siteId: string): Promise<{ id: string; deviceId: string; key: string }[]> {
  const out: { id: string; deviceId: string; key: string }[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await api.sensors.list.query({ siteId, limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items.map((s) => ({ id: s.id, deviceId: s.deviceId, key: s.key })));
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

/**
 * What ClickHouse holds after the server stopped cleanly, read by opening the stopped server's
 * chDB directory afresh in another process: the rows of the readings table and the distinct
 * batches among them (when the table records batches). Whatever the server does between the
 * acknowledgement and ClickHouse, a clean shutdown must have left every acknowledged reading here.
 */
export async function storedReadings(dataDir: string): Promise<{ rows: number; batches: number | null }> {
  const [columns] = await queryStoppedClickhouse<{ n: number | string }>(
    dataDir,
    "SELECT count() AS n FROM system.columns WHERE database = 'verdant' AND table = 'readings' AND name = 'batch'",
  );
  const hasBatch = Number(columns?.n ?? 0) > 0;
  const [row] = await queryStoppedClickhouse<{ rows: number | string; batches: number | string }>(
    dataDir,
    `SELECT count() AS rows, ${hasBatch ? "uniqExact(batch)" : "0"} AS batches FROM verdant.readings`,
  );
  return { rows: Number(row!.rows), batches: hasBatch ? Number(row!.batches) : null };
}
