import type { PoolClient } from 'pg';
import type { PgPool } from './postgres-database.js';
import type { ReceiptStore } from './ports.js';
import { admitAddresses, admitPhotos, photoId, spanOfHits } from './receipt-admission.js';
import type { Receipt, ReceiptHit, ReceiptRow, ReceiptSession } from './receipts-table.js';

/*
 * Exposure receipts over PostgreSQL, counting exactly as receipts-table.ts does over SQLite. A
 * statement per photo costs little in-process; here it would be a round trip per photo (20,000
 * for a session at the cap). So each session's hits cost a fixed handful of statements: read what
 * is already named, decide as SQLite does (both call receipt-admission.ts), write the outcome in
 * one statement per table.
 */

/** The row with what it named, gathered by the query (SQLite reads those with statements of their own). */
interface ReceiptRowWithNames extends ReceiptRow {
  albums: Receipt['albums'];
  addresses: Receipt['addresses'];
}

/*
 * The receipt with its albums and addresses, in one statement (one snapshot, no query per
 * receipt). Album paths tie-break byte-wise (their column is COLLATE "C"), as SQLite's do.
 */
const SELECT_RECEIPTS = `SELECT r.*,
  COALESCE((SELECT json_agg(json_build_object('path', path, 'photos', photos, 'originals', originals) ORDER BY photos DESC, path)
            FROM (SELECT album_path AS path, count(*) AS photos, count(*) FILTER (WHERE original) AS originals
                  FROM receipt_photos p WHERE p.sid = r.sid GROUP BY album_path) AS album), '[]') AS albums,
  COALESCE((SELECT json_agg(json_build_object('address', address, 'firstSeen', first_seen, 'lastSeen', last_seen) ORDER BY first_seen, address)
            FROM receipt_addresses a WHERE a.sid = r.sid), '[]') AS addresses
  FROM receipts r`;

/*
 * The upsert also locks the receipt's row until the transaction ends, so a second node recording
 * for the same session waits, then counts what the first one added.
 */
const UPSERT_RECEIPT = `INSERT INTO receipts (sid, token, label, key_id, share_id, first_seen, last_seen, requests) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (sid) DO UPDATE SET first_seen = LEAST(receipts.first_seen, excluded.first_seen),
    last_seen = GREATEST(receipts.last_seen, excluded.last_seen), requests = receipts.requests + excluded.requests`;

const KNOWN_PHOTOS = `SELECT album_path, name FROM receipt_photos
  WHERE sid = $1 AND (album_path, name) IN (SELECT * FROM unnest($2::text[], $3::text[]))`;
const PUT_PHOTOS = `INSERT INTO receipt_photos (sid, album_path, name, original)
  SELECT $1, album_path, name, original FROM unnest($2::text[], $3::text[], $4::boolean[]) AS hit (album_path, name, original)
  ON CONFLICT (sid, album_path, name) DO UPDATE SET original = receipt_photos.original OR excluded.original`;
const PUT_ADDRESSES = `INSERT INTO receipt_addresses (sid, address, first_seen, last_seen)
  SELECT $1, address, first_seen, last_seen FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS hit (address, first_seen, last_seen)
  ON CONFLICT (sid, address) DO UPDATE SET first_seen = LEAST(receipt_addresses.first_seen, excluded.first_seen),
    last_seen = GREATEST(receipt_addresses.last_seen, excluded.last_seen)`;

async function countOf(client: PoolClient, table: 'receipt_photos' | 'receipt_addresses', sid: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE sid = $1`, [sid]);
  return rows[0]?.n ?? 0;
}

async function addPhotos(client: PoolClient, sid: string, hits: readonly ReceiptHit[]): Promise<void> {
  const count = await countOf(client, 'receipt_photos', sid);
  const { rows } = await client.query<{ album_path: string; name: string }>(KNOWN_PHOTOS, [sid, hits.map((hit) => hit.albumPath), hits.map((hit) => hit.name)]);
  const known = new Set(rows.map((row) => photoId({ albumPath: row.album_path, name: row.name })));
  const { put, beyond } = admitPhotos(hits, known, count);
  if (put.length > 0) await client.query(PUT_PHOTOS, [sid, put.map((photo) => photo.albumPath), put.map((photo) => photo.name), put.map((photo) => photo.original)]);
  if (beyond > 0) await client.query('UPDATE receipts SET photos_beyond = photos_beyond + $1 WHERE sid = $2', [beyond, sid]);
}

async function addAddresses(client: PoolClient, sid: string, hits: readonly ReceiptHit[]): Promise<void> {
  const count = await countOf(client, 'receipt_addresses', sid);
  const addresses = [...new Set(hits.map((hit) => hit.address))];
  const { rows } = await client.query<{ address: string }>('SELECT address FROM receipt_addresses WHERE sid = $1 AND address = ANY($2::text[])', [sid, addresses]);
  const { put, beyond } = admitAddresses(hits, new Set(rows.map((row) => row.address)), count);
  if (put.length > 0) await client.query(PUT_ADDRESSES, [sid, put.map((span) => span.address), put.map((span) => span.first), put.map((span) => span.last)]);
  if (beyond > 0) await client.query('UPDATE receipts SET addresses_beyond = addresses_beyond + $1 WHERE sid = $2', [beyond, sid]);
}

async function addSession(client: PoolClient, session: ReceiptSession, hits: readonly ReceiptHit[]): Promise<void> {
  const { first, last, requests } = spanOfHits(hits);
  await client.query(UPSERT_RECEIPT, [session.sid, session.token, session.label, session.keyId, session.shareId, first, last, requests]);
  await addPhotos(client, session.sid, hits);
  await addAddresses(client, session.sid, hits);
}

/** Runs `work` in one transaction on one connection; a connection that cannot roll back is dropped, not reused. */
async function inTransaction(pool: PgPool, work: (client: PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (error) {
    broken = await client.query('ROLLBACK').then(
      () => undefined,
      (rollbackError: Error) => rollbackError,
    );
    throw error;
  } finally {
    client.release(broken);
  }
}

function fromRow(row: ReceiptRowWithNames): Receipt {
  return {
    sid: row.sid,
    token: row.token,
    label: row.label,
    keyId: row.key_id,
    shareId: row.share_id,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    requests: row.requests,
    albums: row.albums,
    photosBeyond: row.photos_beyond,
    addresses: row.addresses,
    addressesBeyond: row.addresses_beyond,
  };
}

export function createPostgresReceipts(pool: PgPool): ReceiptStore {
  const many = async (where: 'r.sid' | 'r.token' | 'r.label' | 'r.share_id' | 'r.key_id', value: string | number): Promise<Receipt[]> =>
    (await pool.query<ReceiptRowWithNames>(`${SELECT_RECEIPTS} WHERE ${where} = $1 ORDER BY r.first_seen, r.sid`, [value])).rows.map(fromRow);
  return {
    record: (batch) =>
      inTransaction(pool, async (client) => {
        for (const { session, hits } of batch) if (hits.length > 0) await addSession(client, session, hits);
      }),
    bySid: async (sid) => (await many('r.sid', sid))[0],
    byToken: (token) => many('r.token', token),
    byLabel: (label) => many('r.label', label),
    byShare: (shareId) => many('r.share_id', shareId),
    byKey: (keyId) => many('r.key_id', keyId),
    prune: async (before) =>
      (await pool.query('DELETE FROM receipts r WHERE r.last_seen < $1 AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.sid = r.sid)', [before])).rowCount ?? 0,
  };
}
