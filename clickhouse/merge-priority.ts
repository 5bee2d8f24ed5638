import { readdirSync, readFileSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * chDB's merges at a low CPU priority. On a small machine the engine's merge threads, its INSERTs
 * and the server's JavaScript share the same cores, and a burst of merging stalls the INSERT that
 * devices are waiting on. With the merge threads at nice 19 the merges take the CPU that ingest
 * and queries leave (they kept up over 90 s at 1.4 M readings/s); in alternating runs of the
 * ingest benchmark's 1,000-reading scenario the ack latency p99 was 189–217 ms against 218–298 ms
 * (in the full benchmark the effect was within its noise; see the README's ingest performance).
 *
 * ClickHouse's own setting for this (`os_threads_nice_value_merge_mutate`) needs CAP_SYS_NICE and
 * does nothing without it, while any process may lower its own threads' priority. So the threads
 * are reniced from here: chDB runs in this process, its merge threads are named `MergeMutate`, and
 * on Linux each is a task under /proc/self/task whose id setpriority() takes. The engine starts
 * them when the first table needs merging, so the scan repeats; it reads a few dozen small files.
 * Elsewhere (no /proc) it does nothing.
 */
export const MERGE_THREAD_NAME = "MergeMutate";
const RESCAN_MS = 5_000;

/** Renices the merge threads now and every few seconds; returns the function that stops it. */
export function keepMergesNiced(nice: number): () => void {
  if (nice === 0 || !renice(nice)) return () => {};
  const timer = setInterval(() => renice(nice), RESCAN_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Renices every merge thread of this process; false where threads cannot be listed. */
function renice(nice: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return false;
  }
  for (const task of tasks) {
    try {
      if (readFileSync(`/proc/self/task/${task}/comm`, "utf8").trimEnd() === MERGE_THREAD_NAME) setPriority(Number(task), nice);
    } catch {
      // The thread ended between the listing and now.
    }
  }
  return true;
}
