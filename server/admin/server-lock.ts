import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * PGlite and chDB directories are single-process. A running server records itself in
 * DATA_DIR/server.json and writes a fresh admin secret (mode 0600) next to it, so the CLI can tell
 * whether to open the stores itself or ask the server over loopback.
 */

export interface ServerLock {
  pid: number;
  port: number;
  host: string;
  startedAt: string;
}

const lockPath = (dataDir: string) => path.join(dataDir, "server.json");
const secretPath = (dataDir: string) => path.join(dataDir, "admin.secret");

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The lock of a live server on this DATA_DIR, if any (a stale file from a crash is ignored). */
export function readServerLock(dataDir: string): ServerLock | undefined {
  const file = lockPath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const lock = JSON.parse(readFileSync(file, "utf8")) as ServerLock;
    return lock.pid !== process.pid && isAlive(lock.pid) ? lock : undefined;
  } catch {
    return undefined;
  }
}

export function readAdminSecret(dataDir: string): string {
  return readFileSync(secretPath(dataDir), "utf8").trim();
}

export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
}

/** Claims DATA_DIR for this process; returns the admin secret and a release function. */
export function claimDataDir(dataDir: string, info: Omit<ServerLock, "pid" | "startedAt">): {
  secret: string;
  release: () => void;
} {
  mkdirSync(dataDir, { recursive: true });
  const other = readServerLock(dataDir);
  if (other) {
    throw new DataDirInUseError(
      `another Verdant server (pid ${other.pid}, port ${other.port}) is using DATA_DIR ${dataDir}; stop it or choose another DATA_DIR`,
    );
  }
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(secretPath(dataDir), secret, { mode: 0o600 });
  chmodSync(secretPath(dataDir), 0o600);
  const lock: ServerLock = { ...info, pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(lockPath(dataDir), JSON.stringify(lock, null, 2));
  return {
    secret,
    release: () => {
      rmSync(lockPath(dataDir), { force: true });
      rmSync(secretPath(dataDir), { force: true });
    },
  };
}

/** Updates the recorded port once the listener knows it (PORT=0 picks a free one). */
export function updateServerLockPort(dataDir: string, port: number): void {
  const lock = JSON.parse(readFileSync(lockPath(dataDir), "utf8")) as ServerLock;
  writeFileSync(lockPath(dataDir), JSON.stringify({ ...lock, port }, null, 2));
}

/** Constant-time comparison of a presented secret with the expected one. */
export function secretMatches(presented: string, expected: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
