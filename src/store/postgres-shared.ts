import type { PgPool } from './postgres-database.js';

/* What the nodes share besides the access store: the secrets, and the housekeeping of the guard's counters. */

/** A secret made once for every node: the first node to ask makes it, every later ask reads it. */
export async function loadOrCreateSharedSecret(pool: PgPool, name: string, make: () => string): Promise<string> {
  await pool.query('INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, make(), Date.now()]);
  const { rows } = await pool.query<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [name]);
  const value = rows[0]?.value;
  if (value === undefined) throw new Error(`the shared secret ${name} could not be read back`);
  return value;
}

/** Drops the guard's shared counters that have run out (rate-limiter-flexible leaves them). */
export async function pruneSharedCounters(pool: PgPool, now: number): Promise<number> {
  return (await pool.query('DELETE FROM rate_limits WHERE expire IS NOT NULL AND expire < $1', [now])).rowCount ?? 0;
}
