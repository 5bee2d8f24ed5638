import { existsSync, readdirSync, readFileSync } from "node:fs";

/**
 * What a benchmarked server costs the machine, read from /proc: resident memory and CPU time of
 * a process and every process it started (a server may run workers), and a wait for the machine
 * to go quiet between measurements.
 */

/** The process and its descendants (children as listed by each thread in /proc). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    if (!existsSync(`/proc/${p}`)) continue;
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
        if (children) stack.push(...children.split(/\s+/).map(Number));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

function statusField(pid: number, field: "VmRSS" | "VmHWM" | "RssAnon"): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0; // kB
  } catch {
    return 0;
  }
}

/** Resident memory (bytes) of the process and its descendants, now. */
export function residentBytes(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + statusField(p, "VmRSS"), 0);
}

/**
 * The anonymous part of it (heaps, caches; not the pages of mapped files such as a shared library,
 * which the kernel can drop and read again), of the process and its descendants.
 */
export function anonymousBytes(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + statusField(p, "RssAnon"), 0);
}

/** The kernel's high-water mark of the process's own resident memory (bytes) since it started. */
export function peakResidentBytes(pid: number): number {
  return statusField(pid, "VmHWM");
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by the process and its descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // ended meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/**
 * Waits until the processes together use less than `quietCores` of a core over a second (a
 * server's background merges, compactions and flushes done), at most `maxSeconds`. Returns the
 * seconds waited and whether they went quiet: a measurement that starts while the previous one's
 * work still runs would be charged for it.
 */
export async function settle(pids: number[], maxSeconds: number, quietCores = 0.1): Promise<{ seconds: number; quiet: boolean }> {
  const started = performance.now();
  let before = pids.reduce((s, p) => s + cpuSeconds(p), 0);
  while ((performance.now() - started) / 1000 < maxSeconds) {
    await Bun.sleep(1000);
    const now = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    if (now - before < quietCores) return { seconds: Math.round((performance.now() - started) / 100) / 10, quiet: true };
    before = now;
  }
  return { seconds: maxSeconds, quiet: false };
}

/** Samples the resident memory of some processes every `everyMs` and keeps each one's peak. */
export function memorySampler(pids: Record<string, number>, everyMs = 250) {
  const peaks: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) peaks[name] = Math.max(peaks[name]!, residentBytes(pid));
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    peaks,
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

export const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
