import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../../test/support/process";

/**
 * VictoriaMetrics single-node, the benchmarks' peer: the Debian package's binary, started on a
 * free loopback port with a temporary data directory, stopped and removed afterwards. Readings go
 * in as InfluxDB line protocol to /write (what Telegraf sends), queries through the Prometheus
 * query API. Its defaults are kept except where a benchmark needs otherwise (each flag says why).
 */

const BINARY = "victoria-metrics";

/** The binary, installed from Debian (as .ci/run installs PostgreSQL) when missing. */
export async function ensureVictoriaMetrics(): Promise<string> {
  const found = Bun.which(BINARY);
  if (found) return found;
  console.log("VictoriaMetrics is not installed: apt-get install victoria-metrics");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  for (const cmd of [[...sudo, "apt-get", "update", "-qq"], [...sudo, "apt-get", "install", "-y", "-qq", "victoria-metrics"]]) {
    const proc = Bun.spawn(cmd, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, stdout: "inherit", stderr: "inherit" });
    if ((await proc.exited) !== 0) throw new Error(`${cmd.join(" ")} failed: install the Debian package victoria-metrics (1.79 here) and run again`);
  }
  const installed = Bun.which(BINARY);
  if (!installed) throw new Error("apt-get installed victoria-metrics but the binary is not on PATH");
  return installed;
}

export interface Victoria {
  url: string;
  pid: number;
  version: string;
  /** Makes everything received searchable (VictoriaMetrics buffers recent rows for a few seconds). */
  flush(): Promise<void>;
  /** An instant query: the result vector. */
  query(promql: string, timeMs?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Stops it (SIGTERM, as systemd does) and removes its data. */
  stop(): Promise<void>;
}

/** The package's version (Debian's build prints none for -version). */
async function versionOf(binary: string): Promise<string> {
  for (const cmd of [[binary, "-version"], ["dpkg-query", "-W", "-f=${Version}", "victoria-metrics"]]) {
    try {
      const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
      const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      const text = (out.trim() || err.trim()).split("\n")[0]!;
      if (text) return `VictoriaMetrics ${text}`;
    } catch {
      // no such command
    }
  }
  return "VictoriaMetrics (version unknown)";
}

export async function startVictoria(): Promise<Victoria> {
  const binary = await ensureVictoriaMetrics();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "verdant-bench-vm-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: Subprocess = Bun.spawn(
    [
      binary,
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      // The benchmarks' readings are hours to days old; the default keeps one month.
      "-retentionPeriod=100y",
      // Counting every stored sample after a long run reads billions of them; the defaults
      // (1e9 samples, 30 s) would refuse the verification query, not a dashboard's.
      "-search.maxSamplesPerQuery=1000000000000",
      "-search.maxQueryDuration=30m",
      // By default queries do not see the last 30 s; Verdant answers with a reading as soon as it
      // acknowledged it, and a dashboard asking both for the latest values must get the same.
      "-search.latencyOffset=0s",
      "-loggerLevel=ERROR",
    ],
    { stdout: "ignore", stderr: "inherit", stdin: "ignore" },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`victoria-metrics exited with ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error("victoria-metrics did not answer /health within 30 s");
    await Bun.sleep(100);
  }
  const query = async (promql: string, timeMs?: number) => {
    const params = new URLSearchParams({ query: promql });
    if (timeMs !== undefined) params.set("time", String(timeMs / 1000));
    const response = await fetch(`${url}/api/v1/query`, { method: "POST", body: params });
    const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success") throw new Error(`VictoriaMetrics: ${body.error ?? response.status}`);
    return body.data.result;
  };
  return {
    url,
    pid: proc.pid,
    version: await versionOf(binary),
    async flush() {
      const response = await fetch(`${url}/internal/force_flush`);
      if (!response.ok) throw new Error(`force_flush answered ${response.status}`);
    },
    query,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Samples VictoriaMetrics holds of one metric between two instants, after a flush. Counted in
 * slices of at most `sliceMs` so that no single query reads more than a few hundred million.
 */
export async function storedSamples(vm: Victoria, metric: string, fromMs: number, toMs: number, sliceMs = 3_600_000): Promise<number> {
  await vm.flush();
  let total = 0;
  for (let start = fromMs; start < toMs; start += sliceMs) {
    const end = Math.min(toMs, start + sliceMs);
    // count_over_time(m[w]) at time t counts the samples in (t - w, t].
    const [row] = await vm.query(`sum(count_over_time(${metric}[${end - start}ms]))`, end - 1);
    total += row ? Number(row.value[1]) : 0;
  }
  return total;
}

/** Series of one metric with samples between two instants. */
export async function seriesCount(vm: Victoria, metric: string, fromMs: number, toMs: number): Promise<number> {
  const params = new URLSearchParams({ "match[]": metric, start: String(fromMs / 1000), end: String(toMs / 1000) });
  const response = await fetch(`${vm.url}/api/v1/series`, { method: "POST", body: params });
  const body = (await response.json()) as { data: unknown[] };
  return body.data.length;
}
