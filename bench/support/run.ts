import { writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");
let specCounter = 0;

/**
 * Starts `bun <script> <spec file>` (a load generator, the dashboard users) in its own process
 * and reads the one JSON line it prints at the end. `stop()` asks it to finish early (SIGTERM).
 */
export function startJson<T>(script: string, spec: unknown, dir: string): { pid: number; result: Promise<T>; stop(): void } {
  const file = path.join(dir, `spec-${process.pid}-${++specCounter}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const proc = Bun.spawn([process.execPath, script, file], { cwd: ROOT, stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  const result = (async () => {
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    if (code !== 0) throw new Error(`${script} failed (exit ${code})`);
    return JSON.parse(out.trim().split("\n").pop()!) as T;
  })();
  return { pid: proc.pid, result, stop: () => proc.kill("SIGTERM") };
}

export function runJson<T>(script: string, spec: unknown, dir: string): Promise<T> {
  return startJson<T>(script, spec, dir).result;
}

/** Runs a command to its end and returns the last line it printed; throws on failure. */
export async function runCommand(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err.trim().split("\n").slice(-3).join(" / ")}`);
  return out.trim().split("\n").pop()!;
}
