import type { Db } from './database.js';

/** What a key may be told of where photos were taken (auth's location-policy.ts says what each means). */
export type KeyLocation = 'none' | 'city' | 'exact';

export interface KeyRecord {
  readonly id: number;
  readonly label: string;
  readonly passwordHash: string;
  /** scrypt of the password under the site's tag salt; null for a key made before tags. */
  readonly lookupTag: string | null;
  readonly albums: readonly string[];
  readonly canDownloadOriginals: boolean;
  readonly expiresAt: number | null;
  readonly createdAt: number;
  readonly location: KeyLocation;
  /** Marked by the admin as the household's own: only such a key may have exact places. */
  readonly household: boolean;
  /** Made for one named device (`keepsake device add`), entered through an enrolment link, never a password. */
  readonly device: boolean;
}

export type NewKeyRecord = Omit<KeyRecord, 'id'>;

/** A `keys` row as either engine returns it: SQLite's flags are 0 or 1, PostgreSQL's booleans. */
export interface KeyRow {
  id: number;
  label: string;
  password_hash: string;
  lookup_tag: string | null;
  albums: string;
  can_download_originals: number | boolean;
  expires_at: number | null;
  created_at: number;
  location: KeyLocation;
  household: number | boolean;
  device: number | boolean;
}

export function keyFromRow(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    label: row.label,
    passwordHash: row.password_hash,
    lookupTag: row.lookup_tag,
    albums: JSON.parse(row.albums) as string[],
    canDownloadOriginals: Boolean(row.can_download_originals),
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    location: row.location,
    household: Boolean(row.household),
    device: Boolean(row.device),
  };
}

export type KeysTable = ReturnType<typeof createKeysTable>;

/** The `keys` table: shared passwords (as hashes only), their grants and expiry. */
export function createKeysTable(db: Db) {
  const insert = db.prepare(
    `INSERT INTO keys (label, password_hash, lookup_tag, albums, can_download_originals, expires_at, created_at, location, household, device)
     VALUES (@label, @passwordHash, @lookupTag, @albums, @canDownloadOriginals, @expiresAt, @createdAt, @location, @household, @device)`,
  );
  const selectAll = db.prepare<[], KeyRow>('SELECT * FROM keys ORDER BY label');
  const selectByLabel = db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE label = ?');
  const selectById = db.prepare<[number], KeyRow>('SELECT * FROM keys WHERE id = ?');
  const selectByTag = db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE lookup_tag = ?');
  const selectUntagged = db.prepare<[], KeyRow>('SELECT * FROM keys WHERE lookup_tag IS NULL ORDER BY id');
  const updateTag = db.prepare<[string, number]>('UPDATE keys SET lookup_tag = ? WHERE id = ? AND lookup_tag IS NULL');
  const deleteById = db.prepare<[number]>('DELETE FROM keys WHERE id = ?');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM keys');

  return {
    add(key: NewKeyRecord): KeyRecord {
      const result = insert.run({
        ...key,
        albums: JSON.stringify(key.albums),
        canDownloadOriginals: key.canDownloadOriginals ? 1 : 0,
        household: key.household ? 1 : 0,
        device: key.device ? 1 : 0,
      });
      return { ...key, id: Number(result.lastInsertRowid) };
    },
    all: (): KeyRecord[] => selectAll.all().map(keyFromRow),
    byLabel(label: string): KeyRecord | undefined {
      const row = selectByLabel.get(label);
      return row === undefined ? undefined : keyFromRow(row);
    },
    byId(id: number): KeyRecord | undefined {
      const row = selectById.get(id);
      return row === undefined ? undefined : keyFromRow(row);
    },
    byLookupTag(tag: string): KeyRecord | undefined {
      const row = selectByTag.get(tag);
      return row === undefined ? undefined : keyFromRow(row);
    },
    untagged: (): KeyRecord[] => selectUntagged.all().map(keyFromRow),
    setLookupTag: (id: number, tag: string): boolean => updateTag.run(tag, id).changes > 0,
    remove: (id: number): boolean => deleteById.run(id).changes > 0,
    count: (): number => count.get()?.n ?? 0,
  };
}
