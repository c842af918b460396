import type { Db } from './database.js';

/** A device's one-time enrolment link, by the SHA-256 of its code. */
export interface EnrolmentRecord {
  readonly codeHash: string;
  readonly keyId: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

export interface EnrolmentRow {
  code_hash: string;
  key_id: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export const enrolmentFromRow = (row: EnrolmentRow): EnrolmentRecord => ({ codeHash: row.code_hash, keyId: row.key_id, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at });

export type EnrolmentsTable = ReturnType<typeof createEnrolmentsTable>;

export function createEnrolmentsTable(db: Db) {
  const insert = db.prepare('INSERT INTO enrolments (code_hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)');
  const select = db.prepare<[string], EnrolmentRow>('SELECT * FROM enrolments WHERE code_hash = ?');
  const selectByKey = db.prepare<[number], EnrolmentRow>('SELECT * FROM enrolments WHERE key_id = ? ORDER BY created_at');
  // One statement: two presses racing for one card cannot both get in.
  const use = db.prepare<[number, string, number]>('UPDATE enrolments SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?');
  return {
    add: (record: Omit<EnrolmentRecord, 'usedAt'>): void => void insert.run(record.codeHash, record.keyId, record.createdAt, record.expiresAt),
    byHash(codeHash: string): EnrolmentRecord | undefined {
      const row = select.get(codeHash);
      return row === undefined ? undefined : enrolmentFromRow(row);
    },
    byKey: (keyId: number): EnrolmentRecord[] => selectByKey.all(keyId).map(enrolmentFromRow),
    /** Marks the card used if it is unused and unexpired at `now`; false otherwise. */
    take: (codeHash: string, now: number): boolean => use.run(now, codeHash, now).changes > 0,
  };
}

/** The admin's one-time preview links (keepsake review --serve), by the SHA-256 of their code. */
export function createPreviewLinksTable(db: Db) {
  const insert = db.prepare('INSERT INTO preview_links (code_hash, expires_at) VALUES (?, ?)');
  const use = db.prepare<[number, string, number]>('UPDATE preview_links SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?');
  const prune = db.prepare<[number]>('DELETE FROM preview_links WHERE expires_at <= ?');
  return {
    add: (codeHash: string, expiresAt: number): void => void insert.run(codeHash, expiresAt),
    take: (codeHash: string, now: number): boolean => use.run(now, codeHash, now).changes > 0,
    prune: (now: number): number => prune.run(now).changes,
  };
}
