import { KeepsakeError } from '../errors.js';

/** Too many password checks are waiting already: the login is refused for a moment (503). */
export class LoginBusyError extends KeepsakeError {
  constructor(readonly retryAfterSeconds: number) {
    super('LOGIN_BUSY', 'too many logins at once');
  }
}

export interface HashGate {
  /** Runs `work` (password hashing) when a slot is free; refuses at once when the queue is full. */
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly stats: () => { running: number; waiting: number };
}

export interface HashGateOptions {
  /** Hashes at once. */
  readonly concurrency: number;
  /** Logins that may wait for a slot; beyond them LoginBusyError. */
  readonly queue: number;
  /**
   * The share of a thread's time a slot may spend hashing (0 < share ≤ 1): after a hash that
   * took d ms, its slot rests d × (1/share − 1) ms before the next. A login that finds a slot
   * free starts at once; a flood of them takes at most this share of a core.
   */
  readonly share?: number;
  readonly retryAfterSeconds?: number;
}

/**
 * Password hashing, a few at a time. scrypt runs on libuv's pool of four threads, which every
 * file read of photo serving uses too, and it takes a whole core while it runs: a flood of
 * logins hashing back to back would leave a small box no core for photos. At most `concurrency`
 * hashes run, each slot busy for at most `share` of the time; a short queue waits; beyond it a
 * login is refused with LoginBusyError, cheaply, before any hashing.
 */
export function createHashGate(options: HashGateOptions): HashGate {
  const share = options.share ?? 1;
  if (!(share > 0 && share <= 1)) throw new RangeError(`Expected a share between 0 and 1 for hashing but received ${share}`);
  let busy = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    busy -= 1;
    const next = waiting.shift();
    if (next !== undefined) {
      busy += 1;
      next();
    }
  };
  return {
    async run(work) {
      if (busy >= options.concurrency) {
        if (waiting.length >= options.queue) throw new LoginBusyError(options.retryAfterSeconds ?? 2);
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else busy += 1;
      const started = performance.now();
      try {
        return await work();
      } finally {
        const restMs = share === 1 ? 0 : (performance.now() - started) * (1 / share - 1);
        if (restMs <= 0) release();
        else setTimeout(release, restMs);
      }
    },
    stats: () => ({ running: busy, waiting: waiting.length }),
  };
}
