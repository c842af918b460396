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

/**
 * Password hashing, a few at a time. scrypt runs on libuv's pool of four threads, which every
 * file read of photo serving uses too: a flood of logins hashing four at once would leave no
 * thread for photos. At most `concurrency` hashes run; a short queue waits; beyond it a login is
 * refused with LoginBusyError, cheaply, before any hashing.
 */
export function createHashGate(options: { concurrency: number; queue: number; retryAfterSeconds?: number }): HashGate {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    running -= 1;
    const next = waiting.shift();
    if (next !== undefined) {
      running += 1;
      next();
    }
  };
  return {
    async run(work) {
      if (running >= options.concurrency) {
        if (waiting.length >= options.queue) throw new LoginBusyError(options.retryAfterSeconds ?? 2);
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else running += 1;
      try {
        return await work();
      } finally {
        release();
      }
    },
    stats: () => ({ running, waiting: waiting.length }),
  };
}
