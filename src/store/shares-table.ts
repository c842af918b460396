import type { Db } from './database.js';

export interface ShareRecord {
  readonly id: string;
  readonly album: string;
  readonly canDownloadOriginals: boolean;
  readonly expiresAt: number;
  readonly maxUses: number | null;
  readonly uses: number;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** A `shares` row as either engine returns it: SQLite's flag is 0 or 1, PostgreSQL's a boolean. */
export interface ShareRow {
  id: string;
  album: string;
  can_download_originals: number | boolean;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  created_at: number;
  revoked_at: number | null;
}

export function shareFromRow(row: ShareRow): ShareRecord {
  return {
    id: row.id,
    album: row.album,
    canDownloadOriginals: Boolean(row.can_download_originals),
    expiresAt: row.expires_at,
    maxUses: row.max_uses,
    uses: row.uses,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export type SharesTable = ReturnType<typeof createSharesTable>;

/** Signed share links: what each opens, until when, and how often it has been used. */
export function createSharesTable(db: Db) {
  const insert = db.prepare(
    `INSERT INTO shares (id, album, can_download_originals, expires_at, max_uses, created_at)
     VALUES (@id, @album, @canDownloadOriginals, @expiresAt, @maxUses, @createdAt)`,
  );
  const selectById = db.prepare<[string], ShareRow>('SELECT * FROM shares WHERE id = ?');
  const selectAll = db.prepare<[], ShareRow>('SELECT * FROM shares ORDER BY created_at DESC');
  // One statement, so two visitors racing for the last use cannot both get it.
  const takeUse = db.prepare<[string, number]>(
    `UPDATE shares SET uses = uses + 1
     WHERE id = ? AND revoked_at IS NULL AND expires_at > ? AND (max_uses IS NULL OR uses < max_uses)`,
  );
  const revoke = db.prepare<[number, string]>('UPDATE shares SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const deleteExpired = db.prepare<[number]>('DELETE FROM shares WHERE expires_at <= ?');

  return {
    add(share: Omit<ShareRecord, 'uses' | 'revokedAt'>): void {
      insert.run({ ...share, canDownloadOriginals: share.canDownloadOriginals ? 1 : 0 });
    },
    byId(id: string): ShareRecord | undefined {
      const row = selectById.get(id);
      return row === undefined ? undefined : shareFromRow(row);
    },
    all: (): ShareRecord[] => selectAll.all().map(shareFromRow),
    /** Counts one use if the share is still open; false when revoked, expired or used up. */
    takeUse: (id: string, now: number): boolean => takeUse.run(id, now).changes > 0,
    revoke: (id: string, now: number): boolean => revoke.run(now, id).changes > 0,
    deleteExpired: (now: number): number => deleteExpired.run(now).changes,
  };
}
