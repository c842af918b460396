import cron from 'node-cron';
import type { Logger } from '../log.js';

export interface Sweeper {
  stop(): Promise<void>;
}

/** Runs `sweep` on the cron schedule (5 fields, or 6 with seconds), never two at once. */
export function startSweeper(expression: string, sweep: () => Promise<unknown>, log: Logger): Sweeper {
  const task = cron.schedule(
    expression,
    async () => {
      try {
        await sweep();
      } catch (error) {
        log.error({ err: error }, 'sweep failed; the next one retries');
      }
    },
    { name: 'keepsake-sweeper', noOverlap: true },
  );
  return {
    async stop() {
      await task.destroy();
    },
  };
}
