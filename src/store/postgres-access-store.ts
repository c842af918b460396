import { enrolmentFromRow, type EnrolmentRecord, type EnrolmentRow } from './enrolments-table.js';
import { keyFromRow, type KeyRecord, type KeyRow } from './keys-table.js';
import type { PgPool } from './postgres-database.js';
import { createPostgresReceipts } from './postgres-receipts.js';
import { createPostgresSessions } from './postgres-sessions.js';
import type { AccessStore, EnrolmentStore, KeyStore, PreviewLinkStore, ShareStore } from './ports.js';
import { shareFromRow, type ShareRow } from './shares-table.js';
import { StoreConflictError } from './sqlite-access-store.js';

/*
 * The access store over PostgreSQL, for several nodes sharing one database: the same semantics as
 * sqlite-access-store.ts, statement for statement where it can be. Whatever must not happen twice
 * (a share's last use, a card, a preview link) is one conditional UPDATE, which PostgreSQL runs
 * row-locked, so of two nodes racing exactly one sees its row change.
 */

/** PostgreSQL's SQLSTATE for a unique or primary key violation. */
const UNIQUE_VIOLATION = '23505';

/** A unique value already taken is the caller's to handle, as a StoreConflictError. */
async function conflictsAsStoreErrors<T>(write: Promise<T>, message: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new StoreConflictError(message, { cause: error });
    throw error;
  }
}

const changedRows = async (pool: PgPool, text: string, values: unknown[]): Promise<number> => (await pool.query(text, values)).rowCount ?? 0;

const INSERT_KEY = `INSERT INTO keys (label, password_hash, lookup_tag, albums, can_download_originals, expires_at, created_at, location, household, device)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`;

function createKeys(pool: PgPool): KeyStore {
  const many = async (text: string, values: unknown[] = []): Promise<KeyRecord[]> => (await pool.query<KeyRow>(text, values)).rows.map(keyFromRow);
  const one = async (text: string, values: unknown[]): Promise<KeyRecord | undefined> => (await many(text, values))[0];
  return {
    async add(key) {
      const values = [key.label, key.passwordHash, key.lookupTag, JSON.stringify(key.albums), key.canDownloadOriginals, key.expiresAt, key.createdAt, key.location, key.household, key.device];
      const { rows } = await conflictsAsStoreErrors(pool.query<{ id: number }>(INSERT_KEY, values), 'a key with this label or password exists');
      return { ...key, id: rows[0]!.id };
    },
    // Labels sort byte-wise, as in SQLite (the column is COLLATE "C").
    all: () => many('SELECT * FROM keys ORDER BY label'),
    byLabel: (label) => one('SELECT * FROM keys WHERE label = $1', [label]),
    byId: (id) => one('SELECT * FROM keys WHERE id = $1', [id]),
    byLookupTag: (tag) => one('SELECT * FROM keys WHERE lookup_tag = $1', [tag]),
    untagged: () => many('SELECT * FROM keys WHERE lookup_tag IS NULL ORDER BY id'),
    setLookupTag: async (id, tag) => (await changedRows(pool, 'UPDATE keys SET lookup_tag = $1 WHERE id = $2 AND lookup_tag IS NULL', [tag, id])) > 0,
    // Its sessions and enrolment cards go with it: ON DELETE CASCADE.
    remove: async (id) => (await changedRows(pool, 'DELETE FROM keys WHERE id = $1', [id])) > 0,
    count: async () => (await pool.query<{ n: number }>('SELECT count(*) AS n FROM keys')).rows[0]?.n ?? 0,
  };
}

const TAKE_USE = `UPDATE shares SET uses = uses + 1
  WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 AND (max_uses IS NULL OR uses < max_uses)`;

function createShares(pool: PgPool): ShareStore {
  return {
    async add(share) {
      await pool.query('INSERT INTO shares (id, album, can_download_originals, expires_at, max_uses, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        share.id, share.album, share.canDownloadOriginals, share.expiresAt, share.maxUses, share.createdAt,
      ]);
    },
    byId: async (id) => (await pool.query<ShareRow>('SELECT * FROM shares WHERE id = $1', [id])).rows.map(shareFromRow)[0],
    // The id breaks ties in created_at, which SQLite leaves to its rowid order.
    all: async () => (await pool.query<ShareRow>('SELECT * FROM shares ORDER BY created_at DESC, id')).rows.map(shareFromRow),
    takeUse: async (id, now) => (await changedRows(pool, TAKE_USE, [id, now])) > 0,
    revoke: async (id, now) => (await changedRows(pool, 'UPDATE shares SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, id])) > 0,
    deleteExpired: (now) => changedRows(pool, 'DELETE FROM shares WHERE expires_at <= $1', [now]),
  };
}


function createEnrolments(pool: PgPool): EnrolmentStore {
  const many = async (text: string, values: unknown[]): Promise<EnrolmentRecord[]> => (await pool.query<EnrolmentRow>(text, values)).rows.map(enrolmentFromRow);
  return {
    async add(record) {
      await pool.query('INSERT INTO enrolments (code_hash, key_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [record.codeHash, record.keyId, record.createdAt, record.expiresAt]);
    },
    byHash: async (codeHash) => (await many('SELECT * FROM enrolments WHERE code_hash = $1', [codeHash]))[0],
    byKey: (keyId) => many('SELECT * FROM enrolments WHERE key_id = $1 ORDER BY created_at, code_hash', [keyId]),
    take: async (codeHash, now) => (await changedRows(pool, 'UPDATE enrolments SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1', [now, codeHash])) > 0,
  };
}

function createPreviewLinks(pool: PgPool): PreviewLinkStore {
  return {
    async add(codeHash, expiresAt) {
      await pool.query('INSERT INTO preview_links (code_hash, expires_at) VALUES ($1, $2)', [codeHash, expiresAt]);
    },
    take: async (codeHash, now) => (await changedRows(pool, 'UPDATE preview_links SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1', [now, codeHash])) > 0,
    prune: (now) => changedRows(pool, 'DELETE FROM preview_links WHERE expires_at <= $1', [now]),
  };
}

/** The access store over a migrated pool (openPostgres); the pool stays the caller's to end. */
export function createPostgresAccessStore(pool: PgPool): AccessStore {
  const sessions = createPostgresSessions(pool);
  return {
    keys: createKeys(pool),
    sessions: { ...sessions, insertPending: (session) => conflictsAsStoreErrors(sessions.insertPending(session), 'session id or token taken') },
    shares: createShares(pool),
    receipts: createPostgresReceipts(pool),
    enrolments: createEnrolments(pool),
    previewLinks: createPreviewLinks(pool),
    // Nothing runs beside the pool.
    close: async () => undefined,
  };
}
