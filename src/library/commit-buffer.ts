import type { Change, CatalogueWriter, CommitCounts } from './catalogue-writer.js';

export interface CommitBuffer {
  push(change: Change | undefined): void;
  /** Commits whatever is waiting; returns the running totals of everything committed. */
  flush(): CommitCounts;
}

/**
 * Gathers changes and commits them in transactions of up to `maxChanges`, or after
 * `maxDelayMs` at the latest, so photos show up while a long scan is still reading and
 * SQLite is not asked for one transaction per file.
 */
export function createCommitBuffer(writer: CatalogueWriter, maxChanges = 200, maxDelayMs = 1000): CommitBuffer {
  let waiting: Change[] = [];
  let timer: NodeJS.Timeout | undefined;
  const totals: CommitCounts = { added: 0, updated: 0, removed: 0 };
  // A commit run from the timer has no caller to throw to; its error surfaces at the next flush().
  let timerFailure: { error: unknown } | undefined;

  function flushFromTimer(): void {
    try {
      flush();
    } catch (error) {
      timerFailure = { error };
    }
  }

  function flush(): CommitCounts {
    if (timerFailure !== undefined) {
      const { error } = timerFailure;
      timerFailure = undefined;
      throw error;
    }
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    const counts = writer.commit(batch);
    totals.added += counts.added;
    totals.updated += counts.updated;
    totals.removed += counts.removed;
    return { ...totals };
  }

  return {
    push(change) {
      if (change === undefined) return;
      waiting.push(change);
      if (waiting.length >= maxChanges) flush();
      else timer ??= setTimeout(flushFromTimer, maxDelayMs).unref();
    },
    flush,
  };
}
