import pg from 'pg';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';

export type PgPool = pg.Pool;

const INT8_OID = 20;

/**
 * Times are epoch milliseconds in BIGINT columns: read back as numbers (they stay far below 2^53),
 * for this pool only, not by changing node-postgres's global parsers.
 */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text'))) as typeof pg.types.getTypeParser,
};

/** Any number of nodes may start at once: the first to take this lock migrates, the others then find nothing to do. */
const MIGRATION_LOCK = 0x6b_65_65_70; // "keep"

/** A pool over `url`, every connection reading BIGINT as a number. */
export function createPool(url: string, max = 10): PgPool {
  return new pg.Pool({ connectionString: url, max, types: TYPES, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, query_timeout: 10_000 });
}

/** A single connection (for LISTEN, or an advisory lock held for as long as it lives), typed as the pool's. */
export function createClient(url: string): pg.Client {
  return new pg.Client({ connectionString: url, types: TYPES, connectionTimeoutMillis: 5_000 });
}

/** Runs `work` in one transaction on one connection of the pool: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(pool: PgPool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Brings the schema up to date, once, however many nodes start together: in one transaction under
 * an advisory lock, steps recorded in `schema_migrations` as they run. Append-only, as SQLite's.
 */
export async function migratePostgres(pool: PgPool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    for (let version = current; version < POSTGRES_MIGRATIONS.length; version += 1) {
      await client.query(POSTGRES_MIGRATIONS[version]!);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version + 1, Date.now()]);
    }
  });
}

/** Opens a pool and migrates; the pool is the caller's to end. */
export async function openPostgres(url: string): Promise<PgPool> {
  const pool = createPool(url);
  // An idle connection the server ended (a restart, a network cut) must not crash the process.
  pool.on('error', () => undefined);
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return pool;
}

/** True when the database answers a trivial query (for /healthz). */
export async function isPostgresUsable(pool: PgPool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
