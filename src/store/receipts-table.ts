import type { Db } from './database.js';
import { admitAddresses, admitPhotos, photoId, RECEIPT_ADDRESSES, RECEIPT_PHOTOS, spanOfHits, type ReceiptHit } from './receipt-admission.js';

/*
 * Exposure receipts: for each session, what it fetched (albums, photos, originals), when, and from
 * which addresses. Never the bytes. Bounded: at most RECEIPT_PHOTOS photos and RECEIPT_ADDRESSES
 * addresses are named per session; beyond that they are only counted.
 */

export { RECEIPT_ADDRESSES, RECEIPT_PHOTOS, type ReceiptHit };

/** Who a receipt is about, as the session said when it first fetched something. */
export interface ReceiptSession {
  readonly sid: string;
  readonly token: string;
  readonly label: string;
  readonly keyId: number | null;
  readonly shareId: string | null;
}

export interface Receipt extends ReceiptSession {
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly requests: number;
  /** Album path → photos of it fetched, and how many of those as originals. */
  readonly albums: ReadonlyArray<{ readonly path: string; readonly photos: number; readonly originals: number }>;
  readonly photosBeyond: number;
  readonly addresses: ReadonlyArray<{ readonly address: string; readonly firstSeen: number; readonly lastSeen: number }>;
  readonly addressesBeyond: number;
}

/** A `receipts` row, as both engines store it. */
export interface ReceiptRow {
  sid: string;
  token: string;
  label: string;
  key_id: number | null;
  share_id: string | null;
  first_seen: number;
  last_seen: number;
  requests: number;
  photos_beyond: number;
  addresses_beyond: number;
}

export type ReceiptsTable = ReturnType<typeof createReceiptsTable>;

export function createReceiptsTable(db: Db) {
  const sql = {
    upsert: db.prepare(`INSERT INTO receipts (sid, token, label, key_id, share_id, first_seen, last_seen, requests) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (sid) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen), requests = requests + excluded.requests`),
    photoCount: db.prepare('SELECT COUNT(*) FROM receipt_photos WHERE sid = ?').pluck(),
    hasPhoto: db.prepare('SELECT 1 FROM receipt_photos WHERE sid = ? AND album_path = ? AND name = ?').pluck(),
    putPhoto: db.prepare(`INSERT INTO receipt_photos (sid, album_path, name, original) VALUES (?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET original = max(original, excluded.original)`),
    photosBeyond: db.prepare('UPDATE receipts SET photos_beyond = photos_beyond + ? WHERE sid = ?'),
    addressCount: db.prepare('SELECT COUNT(*) FROM receipt_addresses WHERE sid = ?').pluck(),
    hasAddress: db.prepare('SELECT 1 FROM receipt_addresses WHERE sid = ? AND address = ?').pluck(),
    putAddress: db.prepare(`INSERT INTO receipt_addresses (sid, address, first_seen, last_seen) VALUES (?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`),
    addressesBeyond: db.prepare('UPDATE receipts SET addresses_beyond = addresses_beyond + ? WHERE sid = ?'),
    bySid: db.prepare('SELECT * FROM receipts WHERE sid = ?'),
    byToken: db.prepare('SELECT * FROM receipts WHERE token = ? ORDER BY first_seen'),
    byLabel: db.prepare('SELECT * FROM receipts WHERE label = ? ORDER BY first_seen'),
    byShare: db.prepare('SELECT * FROM receipts WHERE share_id = ? ORDER BY first_seen'),
    byKey: db.prepare('SELECT * FROM receipts WHERE key_id = ? ORDER BY first_seen'),
    albums: db.prepare('SELECT album_path AS path, COUNT(*) AS photos, SUM(original) AS originals FROM receipt_photos WHERE sid = ? GROUP BY album_path ORDER BY photos DESC, album_path'),
    addresses: db.prepare('SELECT address, first_seen AS firstSeen, last_seen AS lastSeen FROM receipt_addresses WHERE sid = ? ORDER BY first_seen'),
    prune: db.prepare('DELETE FROM receipts WHERE last_seen < ? AND sid NOT IN (SELECT sid FROM sessions)'),
  };

  // Whether each distinct photo and address is named already: one query each, however often it was asked for.
  function addPhotos(sid: string, hits: readonly ReceiptHit[]): void {
    const known = new Set<string>();
    for (const [id, hit] of new Map(hits.map((hit) => [photoId(hit), hit]))) if (sql.hasPhoto.get(sid, hit.albumPath, hit.name) !== undefined) known.add(id);
    const { put, beyond } = admitPhotos(hits, known, sql.photoCount.get(sid) as number);
    for (const photo of put) sql.putPhoto.run(sid, photo.albumPath, photo.name, photo.original ? 1 : 0);
    if (beyond > 0) sql.photosBeyond.run(beyond, sid);
  }

  function addAddresses(sid: string, hits: readonly ReceiptHit[]): void {
    const known = new Set<string>();
    for (const address of new Set(hits.map((hit) => hit.address))) if (sql.hasAddress.get(sid, address) !== undefined) known.add(address);
    const { put, beyond } = admitAddresses(hits, known, sql.addressCount.get(sid) as number);
    for (const span of put) sql.putAddress.run(sid, span.address, span.first, span.last);
    if (beyond > 0) sql.addressesBeyond.run(beyond, sid);
  }

  function toReceipt(row: ReceiptRow): Receipt {
    return {
      sid: row.sid,
      token: row.token,
      label: row.label,
      keyId: row.key_id,
      shareId: row.share_id,
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      requests: row.requests,
      albums: sql.albums.all(row.sid) as Receipt['albums'],
      photosBeyond: row.photos_beyond,
      addresses: sql.addresses.all(row.sid) as Receipt['addresses'],
      addressesBeyond: row.addresses_beyond,
    };
  }

  const many = (rows: unknown[]): Receipt[] => (rows as ReceiptRow[]).map(toReceipt);

  return {
    /** Adds what sessions fetched since the last call, all in one transaction. */
    record: db.transaction((batch: ReadonlyArray<{ session: ReceiptSession; hits: readonly ReceiptHit[] }>) => {
      for (const { session, hits } of batch) {
        if (hits.length === 0) continue;
        const { first, last, requests } = spanOfHits(hits);
        sql.upsert.run(session.sid, session.token, session.label, session.keyId, session.shareId, first, last, requests);
        addPhotos(session.sid, hits);
        addAddresses(session.sid, hits);
      }
    }),
    bySid: (sid: string): Receipt | undefined => {
      const row = sql.bySid.get(sid) as ReceiptRow | undefined;
      return row === undefined ? undefined : toReceipt(row);
    },
    byToken: (token: string) => many(sql.byToken.all(token)),
    byLabel: (label: string) => many(sql.byLabel.all(label)),
    byShare: (shareId: string) => many(sql.byShare.all(shareId)),
    byKey: (keyId: number) => many(sql.byKey.all(keyId)),
    /** Deletes the receipts of sessions that ended and were last seen before `before`. */
    prune: (before: number): number => sql.prune.run(before).changes,
  };
}
