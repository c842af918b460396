import { createTimeSlicer, SLICE_MS } from '../time-slicer.js';

/**
 * Runs `task` over `items` with at most `limit` tasks in flight, so a burst of 20,000 new
 * files never means 20,000 open files. Stops starting new tasks once `signal` aborts.
 * Tasks that settle at once (videos, which are not read) would otherwise chain as
 * microtasks and starve timers and requests, so the workers yield every few milliseconds.
 * Tasks are expected to handle their own errors; one that throws rejects the whole run.
 */
export async function forEachWithLimit<T>(
  items: Iterable<T>,
  limit: number,
  task: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const slicer = createTimeSlicer(SLICE_MS);
  const worker = async (): Promise<void> => {
    // One shared iterator: each worker pulls the next item when it is free.
    for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
      if (slicer.due()) await slicer.yield();
      if (signal?.aborted === true) return;
      await task(next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}

