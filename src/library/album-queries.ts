import { companionSql, pairCompanions } from './companions.js';
import type { Db } from '../store/index.js';
import { MEDIA_COLUMNS, toMediaItem, type MediaRow } from './catalogue-table.js';
import { belowBounds } from './relative-path.js';
import type { AlbumListing, AlbumLocation, AlbumSummary, Library, MediaItem } from './types.js';

export interface AlbumQueries extends Omit<Library, 'openOriginal' | 'readOriginal'> {
  /** Summaries of the albums at the top of the media root, newest first. */
  topAlbums(): readonly AlbumSummary[];
  /** Summaries of the albums directly inside `parent` ('' = the top), newest first. */
  albumsUnder(parent: string): readonly AlbumSummary[];
}

interface Span {
  first: number | undefined;
  last: number | undefined;
  lastAdded: number | undefined;
}

/**
 * Page reads, straight from SQLite with prepared statements. '' stands for the media root
 * itself (its loose files and top albums), which is not an album row. Every query is
 * a lookup or a range scan on an index: an album's date span over its sub-albums is a
 * prefix range (`album_path > 'a/' AND album_path < 'a0'`), not a recursive walk.
 */
/** `includePending`: also the albums waiting for review, for the admin's preview (review --serve). */
export function createAlbumQueries(db: Db, options: { readonly includePending?: boolean } = {}): AlbumQueries {
  const sql = prepareStatements(db, options.includePending === true);

  function spanOf(albumPath: string): Span {
    const { lower, upper } = belowBounds(albumPath);
    const row = (albumPath === '' ? sql.spanAll.get() : sql.span.get(albumPath, lower, upper)) as {
      first: number | null;
      last: number | null;
      lastAdded: number | null;
    };
    return { first: row.first ?? undefined, last: row.last ?? undefined, lastAdded: row.lastAdded ?? undefined };
  }

  /** The album's first photo by date taken, else the cover of its first sub-album (newest first, as listed). */
  function coverOf(albumPath: string): MediaItem | undefined {
    const first = sql.firstItem.get(albumPath) as MediaRow | undefined;
    if (first !== undefined) return toMediaItem(first);
    const children = (sql.childPaths.all(albumPath) as string[]).map((path) => ({ path, ...spanOf(path) }));
    for (const child of children.sort(newestFirst)) {
      if (child.last === undefined) break; // this one and the rest hold no photo at all
      const cover = coverOf(child.path);
      if (cover !== undefined) return cover;
    }
    return undefined;
  }

  function summary(albumPath: string): AlbumSummary | undefined {
    const title = albumPath === '' ? '' : (sql.albumName.get(albumPath) as string | undefined);
    if (title === undefined) return undefined;
    const span = spanOf(albumPath);
    return {
      path: albumPath,
      title,
      photoCount: sql.countItems.get(albumPath) as number,
      albumCount: sql.countChildren.get(albumPath) as number,
      cover: span.first === undefined ? undefined : coverOf(albumPath),
      firstTakenAt: span.first,
      lastTakenAt: span.last,
      lastAddedAt: span.lastAdded,
    };
  }

  function albumsUnder(parent: string): AlbumSummary[] {
    const summaries = (sql.childPaths.all(parent) as string[]).map(summary);
    return summaries
      .filter((found): found is AlbumSummary => found !== undefined)
      .sort((a, b) => newestFirst({ path: a.path, last: a.lastTakenAt }, { path: b.path, last: b.lastTakenAt }));
  }

  function listing(albumPath: string): AlbumListing | undefined {
    const album = summary(albumPath);
    if (album === undefined) return undefined;
    const items = pairCompanions((sql.items.all(albumPath) as MediaRow[]).map(toMediaItem));
    return { album, albums: albumsUnder(albumPath), items };
  }

  return {
    albumPaths: () => sql.albumPaths.all() as string[],
    albums: () => (sql.albumLocations.all() as Array<[string, string]>).map(([path, realPath]) => ({ path, realPath })),
    album(albumPath): AlbumLocation | undefined {
      const realPath = sql.albumRealPath.get(albumPath) as string | null | undefined;
      // Not known yet (a catalogue from before real paths were kept): not shown until it is.
      return realPath == null ? undefined : { path: albumPath, realPath };
    },
    summary,
    listing,
    item(albumPath, name) {
      const row = sql.item.get(albumPath, name) as MediaRow | undefined;
      return row === undefined ? undefined : toMediaItem(row);
    },
    topAlbums: () => albumsUnder(''),
    albumsUnder,
  };
}

/** Newest last photo first; albums without any photo at the end; ties by path, for a stable order. */
function newestFirst(a: { path: string; last: number | undefined }, b: { path: string; last: number | undefined }): number {
  if (a.last !== b.last) {
    if (a.last === undefined) return 1;
    if (b.last === undefined) return -1;
    return b.last - a.last;
  }
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/**
 * The publish gate: an unpublished album (publish-gate.ts) and what it holds are in no answer
 * here, so in no listing, count, date span, cover, view or media URL, for any key.
 */
function prepareStatements(db: Db, includePending: boolean) {
  const PUBLISHED = includePending ? '1' : 'published = 1';
  const IN_PUBLISHED_ALBUM = includePending ? '1' : 'album_path NOT IN (SELECT path FROM albums WHERE published = 0)';
  // When the newest photo was added rides along in the same range scan as the date span.
  const spanColumns = 'MIN(taken_at) AS first, MAX(taken_at) AS last, MAX(added_at) AS lastAdded';
  return {
    albumPaths: db.prepare(`SELECT path FROM albums WHERE ${PUBLISHED} ORDER BY path`).pluck(),
    albumLocations: db.prepare(`SELECT path, real_path FROM albums WHERE real_path IS NOT NULL AND ${PUBLISHED} ORDER BY path`).raw(),
    albumRealPath: db.prepare(`SELECT real_path FROM albums WHERE path = ? AND ${PUBLISHED}`).pluck(),
    albumName: db.prepare(`SELECT name FROM albums WHERE path = ? AND ${PUBLISHED}`).pluck(),
    childPaths: db.prepare(`SELECT path FROM albums WHERE parent = ? AND ${PUBLISHED}`).pluck(),
    // A Live Photo and a RAW+JPEG pair count once: the companion is part of its item (companions.ts).
    countItems: db.prepare(`SELECT COUNT(*) FROM media clip WHERE clip.album_path = ? AND NOT ${companionSql('clip')}`).pluck(),
    countChildren: db.prepare(`SELECT COUNT(*) FROM albums WHERE parent = ? AND ${PUBLISHED}`).pluck(),
    span: db.prepare(`SELECT ${spanColumns} FROM media WHERE (album_path = ? OR (album_path > ? AND album_path < ?)) AND ${IN_PUBLISHED_ALBUM}`),
    spanAll: db.prepare(`SELECT ${spanColumns} FROM media WHERE ${IN_PUBLISHED_ALBUM}`),
    firstItem: db.prepare(`SELECT ${MEDIA_COLUMNS} FROM media WHERE album_path = ? AND ${IN_PUBLISHED_ALBUM} ORDER BY taken_at, name LIMIT 1`),
    items: db.prepare(`SELECT ${MEDIA_COLUMNS} FROM media WHERE album_path = ? AND ${IN_PUBLISHED_ALBUM} ORDER BY taken_at, name`),
    item: db.prepare(`SELECT ${MEDIA_COLUMNS} FROM media WHERE album_path = ? AND name = ? AND ${IN_PUBLISHED_ALBUM}`),
  };
}
