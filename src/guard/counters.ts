import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { PgPool } from '../store/index.js';

/*
 * Where the guard's counters live: in this process, or (several nodes) in the shared database, so
 * two nodes do not each grant a whole budget. One factory, so the throttle and the budgets never
 * need to know which.
 */

export interface CounterOptions {
  readonly keyPrefix: string;
  readonly points: number;
  readonly duration: number;
}

export type Counters = (options: CounterOptions) => RateLimiterAbstract;

export const memoryCounters: Counters = (options) => new RateLimiterMemory(options);

/** The table is made by the schema's migrations (postgres-migrations.ts), not by the library at start, which races between nodes. */
export const SHARED_COUNTERS_TABLE = 'rate_limits';

export function sharedCounters(pool: PgPool): Counters {
  return (options) =>
    new RateLimiterPostgres({ ...options, storeClient: pool, tableName: SHARED_COUNTERS_TABLE, tableCreated: true, clearExpiredByTimeout: false });
}
