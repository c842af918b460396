import cron from 'node-cron';
import type { Logger } from '../log.js';

export interface Sweeper {
  stop(): Promise<void>;
}

// However far away the next slot is, the wall clock is read again at least this often, so a
// clock stepped back (NTP fixing a box that booted with a wrong clock) never parks the sweeper.
const RECHECK_MS = 60_000;

/**
 * Runs `sweep` on the cron schedule (5 fields, or 6 with seconds), never two at once.
 *
 * node-cron parses the expression and finds the next matching time; the waiting is done here,
 * on a timer re-armed from the current wall clock after every run. node-cron's own loop waits
 * out a backward clock step (no sweep for two hours after a 2 h step back) and replays every
 * slot of a forward one (7,200 warnings and a blocked event loop after a 2 h step forward).
 */
export function startSweeper(expression: string, sweep: () => Promise<unknown>, log: Logger): Sweeper {
  // Never started: it only answers "when is the next slot?".
  const schedule = cron.createTask(expression, () => undefined, { name: 'keepsake-sweeper' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let dueAt = 0;
  let waitsWholeDelay = false;
  let lastRunSlot = Number.NaN;

  function arm(): void {
    if (stopped) return;
    const [first, second] = schedule.getNextRuns(2).map((date) => date.getTime());
    // A timer that fires a hair early would find the slot it just ran as the next one again.
    dueAt = first === lastRunSlot ? second! : first!;
    const delay = Math.max(dueAt - Date.now(), 0);
    waitsWholeDelay = delay <= RECHECK_MS;
    timer = setTimeout(tick, Math.min(delay, RECHECK_MS));
  }

  async function runOnce(): Promise<void> {
    try {
      await sweep();
    } catch (error) {
      log.error({ err: error }, 'sweep failed; the next one retries');
    }
  }

  async function tick(): Promise<void> {
    // Timers count real elapsed time, so a timer that waited the whole delay is due whatever the
    // wall clock did meanwhile; a recheck of a far slot asks the wall clock.
    if (waitsWholeDelay || Date.now() >= dueAt) {
      lastRunSlot = dueAt;
      running = runOnce();
      await running;
      running = undefined;
    }
    arm();
  }

  arm();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await schedule.destroy();
    },
  };
}

/** The time between two runs of a sweep schedule (the longest gap of the next few), for limits counted in sweeps. */
export function sweepIntervalMs(expression: string): number {
  const schedule = cron.createTask(expression, () => undefined, { name: 'keepsake-sweep-interval' });
  try {
    const runs = schedule.getNextRuns(4).map((date) => date.getTime());
    let longest = 0;
    for (let index = 1; index < runs.length; index += 1) longest = Math.max(longest, runs[index]! - runs[index - 1]!);
    return longest;
  } finally {
    void schedule.destroy();
  }
}
