import type { Decision, PolicyName } from './facts.js';

/*
 * Refusals counted by policy, per minute, for `keepsake stats`. Memory is bounded by the
 * retention, not by traffic: a flood of refusals only raises counts in the current minute.
 */

export interface RefusalSummary {
  /** The start of the first minute counted (epoch ms): the summary covers whole minutes. */
  readonly since: number;
  readonly total: number;
  readonly byPolicy: Readonly<Partial<Record<PolicyName, number>>>;
}

export interface RefusalLog {
  /** Counts a refusal at `at` (epoch ms); allowed decisions are ignored. */
  record(decision: Decision, at?: number): void;
  /** Refusals from the minute holding `sinceMs` (epoch ms) onwards. */
  summary(sinceMs: number): RefusalSummary;
}

export interface RefusalLogOptions {
  readonly bucketMs?: number;
  /** How far back summaries can reach; older minutes are dropped. Default 25 hours, a day and a margin. */
  readonly retainMs?: number;
}

export function createRefusalLog({ bucketMs = 60_000, retainMs = 25 * 3_600_000 }: RefusalLogOptions = {}): RefusalLog {
  const buckets = new Map<number, Map<PolicyName, number>>();
  const bucketOf = (at: number) => Math.floor(at / bucketMs);

  function dropOlderThan(oldest: number): void {
    for (const bucket of buckets.keys()) if (bucket < oldest) buckets.delete(bucket);
  }

  return {
    record(decision, at = Date.now()) {
      if (decision.allow) return;
      const bucket = bucketOf(at);
      let counts = buckets.get(bucket);
      if (counts === undefined) {
        dropOlderThan(bucketOf(at - retainMs));
        counts = new Map();
        buckets.set(bucket, counts);
      }
      counts.set(decision.policy, (counts.get(decision.policy) ?? 0) + 1);
    },
    summary(sinceMs) {
      const first = bucketOf(sinceMs);
      const byPolicy: Partial<Record<PolicyName, number>> = {};
      let total = 0;
      for (const [bucket, counts] of buckets) {
        if (bucket < first) continue;
        for (const [policy, count] of counts) {
          byPolicy[policy] = (byPolicy[policy] ?? 0) + count;
          total += count;
        }
      }
      return { since: first * bucketMs, total, byPolicy };
    },
  };
}
