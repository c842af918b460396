/**
 * Bounded work with two priorities, taken fairly between whoever asked, and single-flight
 * promises. Generic: nothing here knows about images.
 */

/**
 * `now`: a visitor is waiting. `background`: pre-generation, which always yields to `now`.
 * `later`: pre-generation that may wait for all `background` work (what a grid needs first).
 */
export const PRIORITIES = ['now', 'background', 'later'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface QueuedTask<T> {
  readonly promise: Promise<T>;
  /** Moves a waiting background task ahead of all background work (a visitor now waits for it). */
  promote(): void;
}

export interface QueueStats {
  readonly queued: number;
  readonly running: number;
}

export interface WorkQueue {
  /**
   * Queues `run`. `owner` (a session, say) makes the queue fair: of the tasks waiting at a
   * priority, the next to start is the oldest of an owner with the fewest tasks running, so one
   * owner asking for thousands cannot hold everyone else back.
   */
  push<T>(run: () => Promise<T>, priority: Priority, owner?: string): QueuedTask<T>;
  stats(): QueueStats;
  /**
   * Stops taking work: waiting background tasks are rejected with `reason()`, waiting `now`
   * tasks and running ones finish; resolves when nothing runs.
   */
  close(reason: () => Error): Promise<void>;
}

interface Entry {
  priority: Priority;
  readonly owner: string | undefined;
  start(): void;
  cancel(error: Error): void;
}

export function createWorkQueue(concurrency: number): WorkQueue {
  const waiting: Record<Priority, Entry[]> = { now: [], background: [], later: [] };
  const runningBy = new Map<string | undefined, number>();
  let running = 0;
  let closed: (() => Error) | undefined;
  let idle: (() => void) | undefined;

  /** The oldest waiting entry of an owner with the fewest tasks running (first wins a tie). */
  function takeFairly(lane: Entry[]): Entry | undefined {
    let best = -1;
    let fewest = Number.POSITIVE_INFINITY;
    for (const [index, entry] of lane.entries()) {
      const busy = runningBy.get(entry.owner) ?? 0;
      if (busy < fewest) {
        fewest = busy;
        best = index;
        if (busy === 0) break;
      }
    }
    return best === -1 ? undefined : lane.splice(best, 1)[0];
  }

  function pump(): void {
    while (running < concurrency) {
      const entry = takeFairly(waiting.now) ?? takeFairly(waiting.background) ?? takeFairly(waiting.later);
      if (entry === undefined) break;
      running += 1;
      runningBy.set(entry.owner, (runningBy.get(entry.owner) ?? 0) + 1);
      entry.start();
    }
    if (running === 0 && PRIORITIES.every((priority) => waiting[priority].length === 0)) idle?.();
  }

  function finished(owner: string | undefined): void {
    running -= 1;
    const left = (runningBy.get(owner) ?? 1) - 1;
    if (left > 0) runningBy.set(owner, left);
    else runningBy.delete(owner);
    pump();
  }

  function push<T>(run: () => Promise<T>, priority: Priority, owner?: string): QueuedTask<T> {
    let entry!: Entry;
    const promise = new Promise<T>((resolve, reject) => {
      entry = {
        priority,
        owner,
        start() {
          // A synchronous throw inside `run` must not escape the pump.
          Promise.resolve()
            .then(run)
            .then(resolve, reject)
            .finally(() => finished(owner));
        },
        cancel: reject,
      };
    });
    if (closed !== undefined) entry.cancel(closed());
    else {
      waiting[priority].push(entry);
      pump();
    }
    return {
      promise,
      promote() {
        if (entry.priority === 'now') return;
        const lane = waiting[entry.priority];
        const index = lane.indexOf(entry);
        if (index === -1) return;
        lane.splice(index, 1);
        entry.priority = 'now';
        waiting.now.push(entry);
      },
    };
  }

  return {
    push,
    stats: () => ({ queued: PRIORITIES.reduce((sum, priority) => sum + waiting[priority].length, 0), running }),
    close(reason) {
      closed = reason;
      for (const entry of [...waiting.background.splice(0), ...waiting.later.splice(0)]) entry.cancel(reason());
      const drained = new Promise<void>((resolve) => {
        idle = resolve;
      });
      pump();
      return drained;
    },
  };
}

/** A promise that settles from outside; used to hand one result to many waiters. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function createDeferred<T>(): Deferred<T> {
  let settle!: { resolve(value: T): void; reject(error: unknown): void };
  let settled = false;
  const promise = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return {
    promise,
    get settled() {
      return settled;
    },
    resolve(value) {
      settled = true;
      settle.resolve(value);
    },
    reject(error) {
      settled = true;
      settle.reject(error);
    },
  };
}

/**
 * Single flight: at most one piece of work per key. The entry disappears as soon as it settles,
 * so after a failure the next caller starts afresh.
 */
export function createFlights<T, Extra>() {
  const flights = new Map<string, { promise: Promise<T>; extra: Extra }>();
  const forget = (key: string, promise: Promise<T>) => () => {
    if (flights.get(key)?.promise === promise) flights.delete(key);
  };
  return {
    get: (key: string) => flights.get(key),
    set(key: string, promise: Promise<T>, extra: Extra): void {
      flights.set(key, { promise, extra });
      // Both branches end the flight; neither re-throws, so this chain never goes unhandled.
      promise.then(forget(key, promise), forget(key, promise));
    },
    /** Waits until every flight whose key passes `match` has landed or failed. */
    async settled(match: (key: string) => boolean): Promise<number> {
      const waiting = [...flights].filter(([key]) => match(key)).map(([, flight]) => flight.promise);
      await Promise.allSettled(waiting);
      return waiting.length;
    },
    get size() {
      return flights.size;
    },
  };
}

/**
 * Runs `run` with an AbortSignal that fires after `ms`. Settles with `run`'s outcome, or rejects
 * with `timeoutError()` at the deadline; work still going then is abandoned (its signal is
 * aborted, so it can stop at its next check) and its eventual failure goes to `onAbandoned`.
 */
export async function runWithDeadline<T>(
  ms: number,
  timeoutError: () => Error,
  run: (signal: AbortSignal) => Promise<T>,
  onAbandoned: (error: unknown) => void,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = timeoutError();
      controller.abort(error);
      reject(error);
    }, ms);
  });
  const work = run(controller.signal);
  work.catch((error: unknown) => {
    if (controller.signal.aborted) onAbandoned(error);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
