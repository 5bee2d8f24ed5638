import type { Subprocess } from "bun";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");

/** Environment for a child server: the test's own, minus anything that would change its config. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(PORT|HOST|DATA_DIR|DATABASE_URL|CLICKHOUSE_.*|LOG_LEVEL|DEMO_DATA)$/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Parsed JSON log lines seen so far. */
  logs: Record<string, unknown>[];
  port: number;
  url: string;
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stderr(): Promise<string>;
}

/** Starts `bun server/main.ts` as a real process and follows its JSON logs. */
export async function spawnServer(env: Record<string, string>, bunFlags: string[] = []): Promise<ServerProcess> {
  const proc = Bun.spawn([process.execPath, ...bunFlags, "server/main.ts"], {
    cwd: ROOT,
    env: childEnv({ PORT: "0", HOST: "127.0.0.1", ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { predicate: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of proc.stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text);
        } catch {
          continue;
        }
        logs.push(line);
        for (const w of [...waiters]) {
          if (w.predicate(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
  })();
  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000) => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`log line not seen in ${timeoutMs} ms; saw: ${JSON.stringify(logs.map((l) => l.msg))}`)), timeoutMs);
      waiters.push({
        predicate,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  };
  const listening = await Promise.race([
    waitForLog((l) => l.msg === "listening"),
    proc.exited.then(async (code) => {
      throw new Error(`server exited with ${code}: ${await new Response(proc.stderr).text()}`);
    }),
  ]);
  const port = Number(listening.port);
  return {
    proc,
    logs,
    port,
    url: `http://127.0.0.1:${port}`,
    waitForLog,
    stderr: () => new Response(proc.stderr).text(),
  };
}

/** Runs `bun server/cli.ts …` and returns its exit code and parsed output. */
export async function runCli(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, "server/cli.ts", ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, any> };
}

export async function waitForStatus(url: string, status: number, timeoutMs = 30_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status === status) return response;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms; last: ${last}`);
}

/** Rows of a query on the chDB store of a DATA_DIR whose server is stopped. */
export async function queryStoppedClickhouse<T>(dataDir: string, query: string): Promise<T[]> {
  const proc = Bun.spawn([process.execPath, "test/support/ch-query.ts", path.join(dataDir, "ch"), "verdant", query], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`query failed: ${stderr}`);
  return JSON.parse(stdout) as T[];
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
