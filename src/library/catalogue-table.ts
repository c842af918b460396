import type { Db } from '../store/index.js';
import type { MediaType } from './media-types.js';
import { belowBounds, joinRelative, splitRelative } from './relative-path.js';
import { isSkipReason, type SkipRecord } from './skip-reasons.js';
import type { MediaItem } from './types.js';

/** A `media` row as SQLite returns it. */
export interface MediaRow {
  album_path: string;
  name: string;
  type: MediaType;
  size: number;
  mtime_ms: number;
  width: number;
  height: number;
  taken_at: number;
}

type StampRow = [albumPath: string, name: string, size: number, mtimeMs: number, type: MediaType];

interface SkipRow {
  path: string;
  reason: string;
  size: number;
  mtime_ms: number;
}

export const MEDIA_COLUMNS = 'album_path, name, type, size, mtime_ms, width, height, taken_at';

export function toMediaItem(row: MediaRow): MediaItem {
  return {
    albumPath: row.album_path,
    name: row.name,
    type: row.type,
    size: row.size,
    mtimeMs: row.mtime_ms,
    width: row.width,
    height: row.height,
    takenAt: row.taken_at,
  };
}

export function itemPath(item: Pick<MediaItem, 'albumPath' | 'name'>): string {
  return joinRelative(item.albumPath, item.name);
}

/** What a scan compares a file against to decide whether to read it again. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly type: MediaType;
}

/** The catalogue's rows as the scanner and the writer need them; reads for pages live in album-queries.ts. */
export interface CatalogueTable {
  /**
   * Every item at or below `prefix` ('' = all) as [relative path, stamp], in pages read by
   * keyset pagination on the primary key, so a caller can yield between pages: 50,000 rows
   * at once would hold the event loop for over 100 ms.
   */
  stampPages(prefix: string, pageSize: number): Generator<Array<[string, FileStamp]>>;
  loadAlbums(prefix: string): Set<string>;
  loadSkips(prefix: string): Map<string, SkipRecord>;
  getItem(relativePath: string): MediaItem | undefined;
  hasAlbum(albumPath: string): boolean;
  getSkip(relativePath: string): SkipRecord | undefined;
  putItem(item: MediaItem): void;
  putAlbum(albumPath: string): void;
  putSkip(record: SkipRecord): void;
  deleteItem(item: MediaItem): void;
  deleteAlbum(albumPath: string): void;
  deleteSkip(relativePath: string): void;
  /** Rows at or strictly below `relativePath`, deepest albums first (the order to delete them in). */
  subtree(relativePath: string): { items: MediaItem[]; albums: string[]; skips: string[] };
  transaction(work: () => void): void;
}

export function createCatalogueTable(db: Db): CatalogueTable {
  const sql = prepareStatements(db);
  const underArgs = (prefix: string) => {
    const { lower, upper } = belowBounds(prefix);
    return [prefix, lower, upper] as const;
  };
  const getItem = (relativePath: string): MediaItem | undefined => {
    const { albumPath, name } = splitRelative(relativePath);
    const row = sql.item.get(albumPath, name) as MediaRow | undefined;
    return row === undefined ? undefined : toMediaItem(row);
  };
  return {
    *stampPages(prefix, pageSize) {
      const { upper } = belowBounds(prefix);
      let after: [string, string] = ['', ''];
      for (;;) {
        const rows = (
          prefix === '' ? sql.stampsAfter.all(...after, pageSize) : sql.stampsUnderAfter.all(prefix, upper, ...after, pageSize)
        ) as StampRow[];
        const last = rows.at(-1);
        if (last === undefined) return;
        after = [last[0], last[1]];
        // The range [prefix, prefix + '0') also holds siblings such as 'prefix 2'; drop them.
        const inside = prefix === '' ? rows : rows.filter(([albumPath]) => albumPath === prefix || albumPath.startsWith(`${prefix}/`));
        yield inside.map(([albumPath, name, size, mtimeMs, type]) => [joinRelative(albumPath, name), { size, mtimeMs, type }]);
      }
    },
    loadAlbums(prefix) {
      const rows = (prefix === '' ? sql.allAlbums.all() : sql.albumsUnder.all(...underArgs(prefix))) as string[];
      return new Set(rows);
    },
    loadSkips(prefix) {
      const rows = (prefix === '' ? sql.allSkips.all() : sql.skipsUnder.all(...underArgs(prefix))) as SkipRow[];
      return new Map(rows.flatMap((row) => toSkipEntries(row)));
    },
    getItem,
    hasAlbum: (albumPath) => sql.album.get(albumPath) !== undefined,
    getSkip(relativePath) {
      const row = sql.skip.get(relativePath) as SkipRow | undefined;
      return row === undefined ? undefined : toSkipEntries(row)[0]?.[1];
    },
    putItem(item) {
      sql.putItem.run(item.albumPath, item.name, item.type, item.size, item.mtimeMs, item.width, item.height, item.takenAt);
    },
    putAlbum(albumPath) {
      const { albumPath: parent, name } = splitRelative(albumPath);
      sql.putAlbum.run(albumPath, parent, name);
    },
    putSkip: (record) => sql.putSkip.run(record.path, record.reason, record.size, record.mtimeMs),
    deleteItem: (item) => sql.deleteItem.run(item.albumPath, item.name),
    deleteAlbum: (albumPath) => sql.deleteAlbum.run(albumPath),
    deleteSkip: (relativePath) => sql.deleteSkip.run(relativePath),
    subtree(relativePath) {
      const args = underArgs(relativePath);
      const item = getItem(relativePath);
      const below = (sql.itemsUnder.all(...args) as MediaRow[]).map(toMediaItem);
      const albums = (sql.albumsUnder.all(...args) as string[]).sort((a, b) => b.length - a.length);
      const skips = sql.skipPathsUnder.all(...args) as string[];
      return { items: item === undefined ? below : [item, ...below], albums, skips };
    },
    transaction: (work) => db.transaction(work)(),
  };
}

function toSkipEntries(row: SkipRow): Array<[string, SkipRecord]> {
  // A reason this version does not know (a newer or older build wrote it) counts as no record.
  if (!isSkipReason(row.reason)) return [];
  return [[row.path, { path: row.path, reason: row.reason, size: row.size, mtimeMs: row.mtime_ms }]];
}

function prepareStatements(db: Db) {
  const under = (column: string) => `${column} = ? OR (${column} > ? AND ${column} < ?)`;
  return {
    stampsAfter: db
      .prepare(
        `SELECT album_path, name, size, mtime_ms, type FROM media
         WHERE (album_path, name) > (?, ?) ORDER BY album_path, name LIMIT ?`,
      )
      .raw(),
    stampsUnderAfter: db
      .prepare(
        `SELECT album_path, name, size, mtime_ms, type FROM media
         WHERE album_path >= ? AND album_path < ? AND (album_path, name) > (?, ?) ORDER BY album_path, name LIMIT ?`,
      )
      .raw(),
    itemsUnder: db.prepare(`SELECT ${MEDIA_COLUMNS} FROM media WHERE ${under('album_path')}`),
    allAlbums: db.prepare('SELECT path FROM albums').pluck(),
    albumsUnder: db.prepare(`SELECT path FROM albums WHERE ${under('path')}`).pluck(),
    allSkips: db.prepare('SELECT path, reason, size, mtime_ms FROM skipped_files'),
    skipsUnder: db.prepare(`SELECT path, reason, size, mtime_ms FROM skipped_files WHERE ${under('path')}`),
    skipPathsUnder: db.prepare(`SELECT path FROM skipped_files WHERE ${under('path')}`).pluck(),
    item: db.prepare(`SELECT ${MEDIA_COLUMNS} FROM media WHERE album_path = ? AND name = ?`),
    album: db.prepare('SELECT 1 FROM albums WHERE path = ?'),
    skip: db.prepare('SELECT path, reason, size, mtime_ms FROM skipped_files WHERE path = ?'),
    putItem: db.prepare(`INSERT OR REPLACE INTO media (${MEDIA_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    putAlbum: db.prepare('INSERT OR IGNORE INTO albums (path, parent, name) VALUES (?, ?, ?)'),
    putSkip: db.prepare('INSERT OR REPLACE INTO skipped_files (path, reason, size, mtime_ms) VALUES (?, ?, ?, ?)'),
    deleteItem: db.prepare('DELETE FROM media WHERE album_path = ? AND name = ?'),
    deleteAlbum: db.prepare('DELETE FROM albums WHERE path = ?'),
    deleteSkip: db.prepare('DELETE FROM skipped_files WHERE path = ?'),
  };
}
