import type { Db } from './database.js';

const MINUTE = 60_000;

export type RefusalsTable = ReturnType<typeof createRefusalsTable>;

/**
 * Refused requests counted per policy and minute, so `keepsake stats` (another process)
 * can summarise them; a day of counts is a few thousand rows at most.
 */
export function createRefusalsTable(db: Db) {
  const upsert = db.prepare<[number, string]>(
    'INSERT INTO refusals (minute, policy, count) VALUES (?, ?, 1) ON CONFLICT (minute, policy) DO UPDATE SET count = count + 1',
  );
  const summary = db.prepare<[number], { policy: string; count: number }>(
    'SELECT policy, SUM(count) AS count FROM refusals WHERE minute >= ? GROUP BY policy ORDER BY count DESC',
  );
  const prune = db.prepare<[number]>('DELETE FROM refusals WHERE minute < ?');
  return {
    record: (policy: string, at: number): void => void upsert.run(Math.floor(at / MINUTE), policy),
    summary: (since: number) => summary.all(Math.floor(since / MINUTE)),
    prune: (before: number): number => prune.run(Math.floor(before / MINUTE)).changes,
  };
}
