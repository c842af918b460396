import type { Db } from '../store/index.js';
import { companionSql } from './companions.js';
import type { MediaKind } from '../media-contract.js';
import { belowBounds, joinRelative, splitRelative } from './relative-path.js';
import { isEmptyInfo, photoInfoFromJson, type PhotoInfo } from './photo-info.js';
import { isSkipReason, type SkipRecord } from './skip-reasons.js';
import type { MediaItem } from './types.js';

/** A `media` row as SQLite returns it. */
export interface MediaRow {
  album_path: string;
  name: string;
  type: MediaKind;
  size: number;
  mtime_ms: number;
  width: number;
  height: number;
  taken_at: number;
  duration_ms: number | null;
  motion_bytes: number | null;
  latitude: number | null;
  longitude: number | null;
  info: string | null;
  placeholder: string | null;
  added_at: number;
}

type StampRow = [albumPath: string, name: string, size: number, mtimeMs: number, type: MediaKind, unprobed: 0 | 1];

interface DueRow {
  album_path: string;
  name: string;
  size: number;
  mtime_ms: number;
  added_at: number;
  info: string | null;
}

const toDue = (row: DueRow): PlaceholderDue => ({ albumPath: row.album_path, name: row.name, size: row.size, mtimeMs: row.mtime_ms, addedAt: row.added_at, needsInfo: row.info === null });

interface SkipRow {
  path: string;
  reason: string;
  size: number;
  mtime_ms: number;
}

/** What a scan or the watcher writes of an item; the catalogue's own facts (placeholder, added_at) are kept apart. */
const WRITTEN_COLUMNS = 'album_path, name, type, size, mtime_ms, width, height, taken_at, duration_ms, motion_bytes, latitude, longitude, info';
export const MEDIA_COLUMNS = `${WRITTEN_COLUMNS}, placeholder, added_at`;

function infoOf(text: string | null): { info?: PhotoInfo } {
  const info = text === null ? undefined : photoInfoFromJson(text);
  return info === undefined || isEmptyInfo(info) ? {} : { info };
}

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
    ...(row.duration_ms === null ? {} : { durationMs: row.duration_ms }),
    ...(row.motion_bytes === null ? {} : { motionBytes: row.motion_bytes }),
    ...(row.latitude === null || row.longitude === null ? {} : { position: { latitude: row.latitude, longitude: row.longitude } }),
    ...infoOf(row.info),
    ...(row.placeholder === null || row.placeholder === '' ? {} : { placeholder: row.placeholder }),
    addedAt: row.added_at,
  };
}

/** An item's values in MEDIA_COLUMNS's order: every engine writes a row from these. */
export function mediaRowValues(item: MediaItem): Array<string | number | null> {
  // Videos have no photo info; a photo's '{}' records that its EXIF was read and held none.
  const info = item.type === 'image' ? JSON.stringify(item.info ?? {}) : null;
  return [
    item.albumPath, item.name, item.type, item.size, item.mtimeMs, item.width, item.height, item.takenAt,
    item.durationMs ?? null, item.motionBytes ?? null, item.position?.latitude ?? null, item.position?.longitude ?? null,
    info, item.placeholder ?? null, item.addedAt ?? Date.now(),
  ];
}

export function itemPath(item: Pick<MediaItem, 'albumPath' | 'name'>): string {
  return joinRelative(item.albumPath, item.name);
}

/** What a scan compares a file against to decide whether to read it again. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly type: MediaKind;
  /** A video never probed: read again once ffprobe is there. */
  readonly unprobed?: boolean;
}

/** A photo whose placeholder is still to be made (placeholder-pass.ts). */
export interface PlaceholderDue {
  readonly albumPath: string;
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly addedAt: number;
  /** Catalogued before photo info was kept: its EXIF is to be read again too. */
  readonly needsInfo: boolean;
}

/** Where a placeholder page ends: the next page starts after it (newest added first). */
export type PlaceholderCursor = readonly [addedAt: number, albumPath: string, name: string];

/** The catalogue's rows as the scanner and the writer need them; reads for pages live in album-queries.ts. */
export interface CatalogueTable {
  /**
   * Every item at or below `prefix` ('' = all) as [relative path, stamp], in pages read by
   * keyset pagination on the primary key, so a caller can yield between pages: 50,000 rows
   * at once would hold the event loop for over 100 ms.
   */
  stampPages(prefix: string, pageSize: number): Generator<Array<[string, FileStamp]>>;
  /** Albums at or below `prefix`, each with its real path ('' relative to the root; null while unknown). */
  loadAlbums(prefix: string): Map<string, string | null>;
  loadSkips(prefix: string): Map<string, SkipRecord>;
  getItem(relativePath: string): MediaItem | undefined;
  /** The album's real path, null while unknown, undefined when there is no such album. */
  albumRealPath(albumPath: string): string | null | undefined;
  /** Albums catalogued before real paths were kept. */
  albumsWithoutRealPath(): string[];
  getSkip(relativePath: string): SkipRecord | undefined;
  /**
   * Adds an item (added now, at `addedAt`) or updates it: an item already catalogued at that path
   * keeps when it was added, and its placeholder unless the file itself changed.
   */
  putItem(item: MediaItem, addedAt?: number): void;
  /** Photos without a placeholder, newest added first, after `cursor` (undefined: from the newest). */
  placeholdersDue(after: PlaceholderCursor | undefined, limit: number): PlaceholderDue[];
  /** The same, in one album, by name after `afterName` ('' for the start). */
  placeholdersDueIn(albumPath: string, afterName: string, limit: number): PlaceholderDue[];
  /**
   * Stores a placeholder ('' for none) and, where it had none, the info, if the row still is the
   * version that was read (same size and mtime); true when it was stored.
   */
  putPlaceholder(due: PlaceholderDue, placeholder: string, info: PhotoInfo | undefined): boolean;
  /** Adds an album, or updates where it really is. */
  putAlbum(albumPath: string, realPath: string): void;
  putSkip(record: SkipRecord): void;
  deleteItem(item: MediaItem): void;
  deleteAlbum(albumPath: string): void;
  deleteSkip(relativePath: string): void;
  /** Rows at or strictly below `relativePath`, deepest albums first (the order to delete them in). */
  subtree(relativePath: string): { items: MediaItem[]; albums: string[]; skips: string[] };
  /** Every album with where it is and whether it is published (a copy of the catalogue, several nodes). */
  albumRows(): AlbumRow[];
  albumRow(path: string): AlbumRow | undefined;
  /** The items of exactly this album, by name. */
  itemsIn(albumPath: string): MediaItem[];
  /** Writes the album row as given (a copy of another node's). */
  putAlbumRow(album: AlbumRow): void;
  /** Writes the item row as given, its placeholder and when it was added included (a copy of another node's). */
  putItemRow(item: MediaItem): void;
  transaction(work: () => void): void;
}

/** An `albums` row: the unit of the catalogue a node copies, with `MediaItem` for `media` rows. */
export interface AlbumRow {
  readonly path: string;
  /** Relative to the media root; null while unknown. */
  readonly realPath: string | null;
  readonly published: boolean;
}

/** `newAlbumsPublished: false` is the publish gate: an album catalogued from now on waits for `keepsake publish`. */
export function createCatalogueTable(db: Db, options: { readonly newAlbumsPublished: boolean } = { newAlbumsPublished: true }): CatalogueTable {
  const sql = prepareStatements(db);
  const published = options.newAlbumsPublished ? 1 : 0;
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
        yield inside.map(([albumPath, name, size, mtimeMs, type, unprobed]) => [joinRelative(albumPath, name), { size, mtimeMs, type, unprobed: unprobed === 1 }]);
      }
    },
    loadAlbums(prefix) {
      const rows = (prefix === '' ? sql.allAlbumLocations.all() : sql.albumLocationsUnder.all(...underArgs(prefix))) as Array<[string, string | null]>;
      return new Map(rows);
    },
    loadSkips(prefix) {
      const rows = (prefix === '' ? sql.allSkips.all() : sql.skipsUnder.all(...underArgs(prefix))) as SkipRow[];
      return new Map(rows.flatMap((row) => toSkipEntries(row)));
    },
    getItem,
    albumRealPath: (albumPath) => sql.albumRealPath.get(albumPath) as string | null | undefined,
    albumsWithoutRealPath: () => sql.albumsWithoutRealPath.all() as string[],
    getSkip(relativePath) {
      const row = sql.skip.get(relativePath) as SkipRow | undefined;
      return row === undefined ? undefined : toSkipEntries(row)[0]?.[1];
    },
    putItem(item, addedAt = Date.now()) {
      // The written columns, then added_at (used only when the row is new).
      sql.putItem.run(...mediaRowValues(item).slice(0, -2), addedAt);
    },
    placeholdersDue(after, limit) {
      const rows = (after === undefined ? sql.placeholdersDue.all(limit) : sql.placeholdersDueAfter.all(...after, limit)) as DueRow[];
      return rows.map(toDue);
    },
    placeholdersDueIn: (albumPath, afterName, limit) => (sql.placeholdersDueIn.all(albumPath, afterName, limit) as DueRow[]).map(toDue),
    putPlaceholder(due, placeholder, info) {
      const infoText = info === undefined ? null : JSON.stringify(info);
      return sql.putPlaceholder.run(placeholder, infoText, due.albumPath, due.name, due.size, due.mtimeMs).changes > 0;
    },
    putAlbum(albumPath, realPath) {
      const { albumPath: parent, name } = splitRelative(albumPath);
      sql.putAlbum.run(albumPath, parent, name, realPath, published);
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
    albumRows: () => (sql.albumRows.all() as Array<[string, string | null, number]>).map(([path, realPath, isPublished]) => ({ path, realPath, published: isPublished === 1 })),
    albumRow(path) {
      const row = sql.albumRow.get(path) as [string | null, number] | undefined;
      return row === undefined ? undefined : { path, realPath: row[0], published: row[1] === 1 };
    },
    itemsIn: (albumPath) => (sql.itemsIn.all(albumPath) as MediaRow[]).map(toMediaItem),
    putAlbumRow(album) {
      const { albumPath: parent, name } = splitRelative(album.path);
      sql.putAlbumRow.run(album.path, parent, name, album.realPath, album.published ? 1 : 0);
    },
    putItemRow: (item) => sql.putItemRow.run(...mediaRowValues(item)),
    transaction: (work) => db.transaction(work)(),
  };
}

function toSkipEntries(row: SkipRow): Array<[string, SkipRecord]> {
  // A reason this version does not know (a newer or older build wrote it) counts as no record.
  if (!isSkipReason(row.reason)) return [];
  return [[row.path, { path: row.path, reason: row.reason, size: row.size, mtimeMs: row.mtime_ms }]];
}

const UNPROBED = "(type = 'video' AND duration_ms IS NULL)";
/** Every written column but the key, from the new row; added_at is not among them, so it stays. */
const UPDATED_COLUMNS = WRITTEN_COLUMNS.split(', ')
  .filter((column) => column !== 'album_path' && column !== 'name')
  .map((column) => `${column} = excluded.${column}`)
  .join(', ');
/** In the upsert: the row on disk is the same file as before (a placeholder made of it still holds). */
const SAME_FILE = 'media.size = excluded.size AND media.mtime_ms = excluded.mtime_ms AND media.type = excluded.type';
const DUE_COLUMNS = 'album_path, name, size, mtime_ms, added_at, info';
/** The RAW beside a JPEG is never shown as an item of its own, so it needs no placeholder. */
const PLACEHOLDER_DUE = `placeholder IS NULL AND type = 'image' AND NOT ${companionSql('media')}`;

function prepareStatements(db: Db) {
  const under = (column: string) => `${column} = ? OR (${column} > ? AND ${column} < ?)`;
  return {
    stampsAfter: db
      .prepare(
        `SELECT album_path, name, size, mtime_ms, type, ${UNPROBED} FROM media
         WHERE (album_path, name) > (?, ?) ORDER BY album_path, name LIMIT ?`,
      )
      .raw(),
    stampsUnderAfter: db
      .prepare(
        `SELECT album_path, name, size, mtime_ms, type, ${UNPROBED} FROM media
         WHERE album_path >= ? AND album_path < ? AND (album_path, name) > (?, ?) ORDER BY album_path, name LIMIT ?`,
      )
      .raw(),
    itemsUnder: db.prepare(`SELECT ${MEDIA_COLUMNS} FROM media WHERE ${under('album_path')}`),
    allAlbumLocations: db.prepare('SELECT path, real_path FROM albums').raw(),
    albumLocationsUnder: db.prepare(`SELECT path, real_path FROM albums WHERE ${under('path')}`).raw(),
    albumsUnder: db.prepare(`SELECT path FROM albums WHERE ${under('path')}`).pluck(),
    albumsWithoutRealPath: db.prepare('SELECT path FROM albums WHERE real_path IS NULL').pluck(),
    allSkips: db.prepare('SELECT path, reason, size, mtime_ms FROM skipped_files'),
    skipsUnder: db.prepare(`SELECT path, reason, size, mtime_ms FROM skipped_files WHERE ${under('path')}`),
    skipPathsUnder: db.prepare(`SELECT path FROM skipped_files WHERE ${under('path')}`).pluck(),
    item: db.prepare(`SELECT ${MEDIA_COLUMNS} FROM media WHERE album_path = ? AND name = ?`),
    albumRealPath: db.prepare('SELECT real_path FROM albums WHERE path = ?').pluck(),
    skip: db.prepare('SELECT path, reason, size, mtime_ms FROM skipped_files WHERE path = ?'),
    putItem: db.prepare(
      `INSERT INTO media (${WRITTEN_COLUMNS}, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (album_path, name) DO UPDATE SET ${UPDATED_COLUMNS},
         placeholder = CASE WHEN ${SAME_FILE} THEN placeholder ELSE NULL END`,
    ),
    placeholdersDue: db.prepare(`SELECT ${DUE_COLUMNS} FROM media WHERE ${PLACEHOLDER_DUE} ORDER BY added_at DESC, album_path DESC, name DESC LIMIT ?`),
    placeholdersDueAfter: db.prepare(
      `SELECT ${DUE_COLUMNS} FROM media WHERE ${PLACEHOLDER_DUE} AND (added_at, album_path, name) < (?, ?, ?)
       ORDER BY added_at DESC, album_path DESC, name DESC LIMIT ?`,
    ),
    placeholdersDueIn: db.prepare(`SELECT ${DUE_COLUMNS} FROM media WHERE album_path = ? AND name > ? AND ${PLACEHOLDER_DUE} ORDER BY name LIMIT ?`),
    putPlaceholder: db.prepare(
      `UPDATE media SET placeholder = ?, info = COALESCE(info, ?) WHERE album_path = ? AND name = ? AND size = ? AND mtime_ms = ? AND type = 'image'`,
    ),
    putAlbum: db.prepare(
      // An album already catalogued keeps whether it is published.
      'INSERT INTO albums (path, parent, name, real_path, published) VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET real_path = excluded.real_path',
    ),
    putSkip: db.prepare('INSERT OR REPLACE INTO skipped_files (path, reason, size, mtime_ms) VALUES (?, ?, ?, ?)'),
    albumRows: db.prepare('SELECT path, real_path, published FROM albums ORDER BY path').raw(),
    albumRow: db.prepare('SELECT real_path, published FROM albums WHERE path = ?').raw(),
    itemsIn: db.prepare(`SELECT ${MEDIA_COLUMNS} FROM media WHERE album_path = ? ORDER BY name`),
    putAlbumRow: db.prepare('INSERT OR REPLACE INTO albums (path, parent, name, real_path, published) VALUES (?, ?, ?, ?, ?)'),
    putItemRow: db.prepare(`INSERT OR REPLACE INTO media (${MEDIA_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteItem: db.prepare('DELETE FROM media WHERE album_path = ? AND name = ?'),
    deleteAlbum: db.prepare('DELETE FROM albums WHERE path = ?'),
    deleteSkip: db.prepare('DELETE FROM skipped_files WHERE path = ?'),
  };
}
