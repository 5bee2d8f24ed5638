import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { MERGE_THREAD_NAME } from "../clickhouse/merge-priority";
import { runCli, spawnServer, waitForStatus } from "./support/process";

/** The server as a user runs it: a real process on a real DATA_DIR, stopped with real signals. */

const freshDataDir = () => mkdtempSync(path.join(tmpdir(), "verdant-data-"));

/** A process's threads with their names and nice values (Linux: /proc/<pid>/task). */
function threadsOf(pid: number): { id: number; name: string; nice: number }[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
      // "id (name) state …": nice is field 19, the 17th after the closing parenthesis.
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      return [{ id: Number(task), name, nice: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]) }];
    } catch {
      return []; // the thread ended while being read
    }
  });
}

/** The embedded server's budget for anonymous (heap, not file-backed) resident memory at idle. */
const IDLE_ANONYMOUS_BUDGET_MIB = 400;

/** A process's anonymous resident memory in MiB (Linux: RssAnon of /proc/<pid>/status). */
function anonymousMiB(pid: number): number {
  const kib = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kib === undefined) throw new Error(`no RssAnon for process ${pid}`);
  return Number(kib) / 1024;
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the server process", () => {
  const dataDir = freshDataDir();

  test("first start on an empty DATA_DIR migrates both stores, seeds demo data, and stops cleanly on SIGTERM", async () => {
    const server = await spawnServer({ DATA_DIR: dataDir });
    const pg = await server.waitForLog((l) => l.msg === "postgres ready");
    const ch = await server.waitForLog((l) => l.msg === "clickhouse ready");
    expect(pg.migrationsApplied).toBeGreaterThan(0);
    expect(pg.demoSiteCreated).toBe(true);
    expect((ch.migrationsApplied as number) > 0).toBe(true);
    await waitForStatus(`${server.url}/readyz`, 200);
    // Demo data: plants with sensors on a demo device, and two days of their readings.
    const demo = await server.waitForLog((l) => l.msg === "demo readings generated");
    expect(demo.readings).toBe(7 * 2 * 24 * 12);
    // The memory budget at idle after a first start with the demo (docs/benchmarks.md): creating
    // the PGlite cluster once left ~500 MiB behind and its default buffer pool ~110 MiB more.
    if (process.platform === "linux") expect(anonymousMiB(server.proc.pid)).toBeLessThan(IDLE_ANONYMOUS_BUDGET_MIB);
    expect(existsSync(path.join(dataDir, "pg"))).toBe(true);
    expect(existsSync(path.join(dataDir, "ch"))).toBe(true);
    // The admin secret the CLI uses is readable by the owner only.
    expect(statSync(path.join(dataDir, "admin.secret")).mode & 0o777).toBe(0o600);

    // While the server holds the embedded stores, the CLI goes through it.
    const status = await runCli(["status"], { DATA_DIR: dataDir });
    expect(status.code).toBe(0);
    expect(status.json().postgres.rows.sites).toBe(1);
    expect(status.json().postgres.rows.plants).toBe(3);
    expect(status.json().postgres.rows.automation_rules).toBe(3);
    expect(status.json().clickhouse.rows.readings).toBe(7 * 2 * 24 * 12);
    expect(status.json().clickhouse.migrations.pending).toEqual([]);
    const reset = await runCli(["reset", "--yes"], { DATA_DIR: dataDir });
    expect(reset.code).toBe(1);
    expect(JSON.parse(reset.stderr).error).toContain("cannot run while the server is running");

    // A second server on the same DATA_DIR is refused instead of corrupting the stores.
    const second = Bun.spawn([process.execPath, "server/main.ts"], {
      cwd: path.resolve(import.meta.dir, ".."),
      env: { ...process.env, DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await second.exited).toBe(1);
    expect(await new Response(second.stdout).text()).toContain("another Verdant server");

    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
    expect(server.logs.some((l) => l.msg === "stopped")).toBe(true);
    expect(existsSync(path.join(dataDir, "server.json"))).toBe(false);
  });

  test("a second start applies no migration and creates no second demo site", async () => {
    const server = await spawnServer({ DATA_DIR: dataDir });
    const pg = await server.waitForLog((l) => l.msg === "postgres ready");
    const ch = await server.waitForLog((l) => l.msg === "clickhouse ready");
    expect(pg.migrationsApplied).toBe(0);
    expect(pg.demoSiteCreated).toBe(false);
    expect(ch.migrationsApplied).toBe(0);
    await waitForStatus(`${server.url}/readyz`, 200);
    await server.waitForLog((l) => l.msg === "ready");
    expect(server.logs.some((l) => l.msg === "demo readings generated")).toBe(false);
    // Every request leaves an access line, written after its response.
    expect((await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "trace-access-1" } })).status).toBe(200);
    const access = await server.waitForLog((l) => l.msg === "request" && l.requestId === "trace-access-1");
    expect(access).toMatchObject({ method: "GET", path: "/healthz", status: 200 });
    expect(access.durationMs).toBeGreaterThanOrEqual(0);
    server.proc.kill("SIGINT");
    expect(await server.proc.exited).toBe(0);
  });

  test.if(process.platform === "linux")("the embedded engine merges at CHDB_MERGE_NICE, the server itself at normal priority", async () => {
    const ownDir = freshDataDir();
    const server = await spawnServer({ DATA_DIR: ownDir, CHDB_MERGE_NICE: "13" });
    try {
      // Migrations and the demo readings give the engine parts to merge, which starts its merge threads.
      await waitForStatus(`${server.url}/readyz`, 200, 60_000);
      const merges = () => threadsOf(server.proc.pid).filter((t) => t.name === MERGE_THREAD_NAME);
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await Bun.sleep(200)) {
        if (merges().length > 0 && merges().every((t) => t.nice === 13)) break;
      }
      expect(merges().length).toBeGreaterThan(0);
      expect(merges().map((t) => t.nice)).toEqual(merges().map(() => 13));
      // The main thread (JavaScript: requests, encoding) keeps its priority.
      expect(threadsOf(server.proc.pid).find((t) => t.id === server.proc.pid)!.nice).toBe(0);
    } finally {
      server.proc.kill("SIGTERM");
      await server.proc.exited;
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 90_000);

  test("with no server running, the CLI opens the stores itself", async () => {
    const status = await runCli(["status"], { DATA_DIR: dataDir });
    expect(status.code).toBe(0);
    expect(status.json().postgres.engine).toBe("pglite");
    expect(status.json().postgres.rows.sites).toBe(1);
    const refused = await runCli(["reset"], { DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--yes");
  });

  test("an unreachable Postgres keeps /healthz up and makes /readyz 503 with the reason", async () => {
    const port = await closedPort();
    const server = await spawnServer({ DATA_DIR: freshDataDir(), DATABASE_URL: `postgres://verdant@127.0.0.1:${port}/verdant` });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.waitForLog((l) => l.msg === "postgres not ready, retrying");
    const response = await waitForStatus(`${server.url}/readyz`, 503);
    const body = (await response.json()) as { status: string; reason: string; stores: Record<string, { ok: boolean }> };
    expect(body.status).toBe("not ready");
    expect(body.reason).toMatch(/^postgres: .*(ECONNREFUSED|connect|refused)/i);
    expect(body.stores.postgres!.ok).toBe(false);
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
  });

  test("a bad environment value stops start-up with a message naming the variable", async () => {
    const proc = Bun.spawn([process.execPath, "server/main.ts"], {
      cwd: path.resolve(import.meta.dir, ".."),
      env: { ...process.env, PORT: "eighty", CLICKHOUSE_URL: "ftp://nope" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(78);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain("PORT");
    expect(stderr).toContain("CLICKHOUSE_URL");
    expect(stderr).toContain('"eighty"');
  });
});
