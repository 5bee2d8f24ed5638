/**
 * Event streams for live subscriptions: hub events become an async iterator that ends when the
 * subscriber goes away or the server stops. A subscriber that reads slower than events arrive
 * loses the oldest queued events beyond `maxQueued` instead of growing the server's memory.
 */

export async function* streamOf<T>(
  subscribe: (push: (value: T) => void) => () => void,
  signal: AbortSignal,
  maxQueued = 1_000,
): AsyncGenerator<T> {
  const queue: T[] = [];
  let wake = () => {};
  const unsubscribe = subscribe((value) => {
    queue.push(value);
    if (queue.length > maxQueued) queue.shift();
    wake();
  });
  const onAbort = () => wake();
  signal.addEventListener("abort", onAbort);
  try {
    while (!signal.aborted) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      yield queue.shift()!;
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Coalesces keyed values: between two messages only the latest value per key is kept, and
 * messages are at least `intervalMs` apart. A dashboard wants each sensor's current value, not
 * every reading of a device that sends a burst of a thousand.
 */
export async function* coalescedOf<T>(
  subscribe: (put: (key: string, value: T) => void) => () => void,
  signal: AbortSignal,
  intervalMs: number,
): AsyncGenerator<T[]> {
  let pending = new Map<string, T>();
  let wake = () => {};
  const unsubscribe = subscribe((key, value) => {
    pending.set(key, value);
    wake();
  });
  const onAbort = () => wake();
  signal.addEventListener("abort", onAbort);
  let lastSent = 0;
  try {
    while (!signal.aborted) {
      if (pending.size === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const waitMs = lastSent + intervalMs - Date.now();
      if (waitMs > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wake = () => {
            // New values only join the batch; only an abort ends the wait early.
            if (signal.aborted) {
              clearTimeout(timer);
              resolve();
            }
          };
        });
        if (signal.aborted) break;
      }
      const batch = [...pending.values()];
      pending = new Map();
      lastSent = Date.now();
      yield batch;
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  }
}
