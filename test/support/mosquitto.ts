import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A real Mosquitto broker for a test: Debian's /usr/sbin/mosquitto on a free loopback port, with
 * persistence in a temporary directory, so a stopped and restarted broker keeps its sessions.
 */

export const MOSQUITTO = process.env.MOSQUITTO_BIN ?? "/usr/sbin/mosquitto";

export interface Mosquitto {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startMosquitto(): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: install Debian's mosquitto package`);
  const dir = mkdtempSync(path.join(tmpdir(), "verdant-mosquitto-"));
  const port = await freePort();
  const conf = path.join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence true",
      `persistence_location ${dir}/`,
      // Root keeps root (Mosquitto would otherwise switch to its own user, who cannot write here).
      "user root",
      "max_queued_messages 10000",
      `log_dest file ${dir}/mosquitto.log`,
      "",
    ].join("\n"),
  );
  const proc: Subprocess = Bun.spawn([MOSQUITTO, "-c", conf], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const deadline = Date.now() + 10_000;
  while (!(await accepting(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      const stderr = await new Response(proc.stderr as ReadableStream).text();
      proc.kill();
      throw new Error(`mosquitto did not start: ${stderr}`);
    }
    await Bun.sleep(50);
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
