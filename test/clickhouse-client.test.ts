import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "..");

test("a process that exits without closing its chDB connection leaves no scratch directory behind", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "verdant-ch-exit-"));
  try {
    // Opens the embedded engine, reports its scratch directory, and exits without close().
    const script = `
      import { openClickhouse } from "./clickhouse/client";
      const ch = openClickhouse({ target: { embeddedPath: ${JSON.stringify(dataDir)} }, database: "verdant" });
      await ch.ping();
      console.log(ch.scratchDir);
      process.exit(0);
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    const scratchDir = out.trim();
    expect(path.basename(scratchDir)).toStartWith("verdant-chdb-");
    expect(existsSync(scratchDir)).toBe(false);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
