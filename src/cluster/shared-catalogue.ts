import { MEDIA_COLUMNS, mediaRowValues, splitRelative, toMediaItem, type AlbumRow, type CatalogueRows, type MediaItem, type MediaRow } from '../library/index.js';
import { inTransaction, type PgPool } from '../store/index.js';
import { LINK_CHANNEL } from './link-follower.js';

/*
 * The catalogue in PostgreSQL (tables made by postgres-migrations.ts): the node that watches the
 * media root writes it, every other node copies it. A write replaces the rows at some paths and
 * adds, in the same transaction, a 'catalogue' event naming them, so the other nodes hear of it
 * through the outbox they follow anyway, in order, and a node that was away catches up.
 */

export interface SharedCatalogue {
  /** The rows at `paths`. */
  rows(paths: readonly string[]): Promise<CatalogueRows>;
  albumRows(): Promise<AlbumRow[]>;
  itemsIn(albumPath: string): Promise<MediaItem[]>;
  /** Makes the rows at `paths` exactly `rows`, and tells every node which paths changed. */
  write(paths: readonly string[], rows: CatalogueRows): Promise<void>;
}

interface AlbumRecord {
  path: string;
  real_path: string | null;
  published: boolean;
}

const toAlbum = (row: AlbumRecord): AlbumRow => ({ path: row.path, realPath: row.real_path, published: row.published });

/** Item keys of `paths`: each path names the item of that name in its parent album. */
function itemKeys(paths: readonly string[]): [string[], string[]] {
  const keys = paths.map(splitRelative);
  return [keys.map((key) => key.albumPath), keys.map((key) => key.name)];
}

export function createSharedCatalogue(pool: PgPool): SharedCatalogue {
  return {
    async rows(paths) {
      const [albumPaths, names] = itemKeys(paths);
      const [albums, items] = await Promise.all([
        pool.query<AlbumRecord>('SELECT path, real_path, published FROM catalogue_albums WHERE path = ANY($1)', [paths]),
        pool.query<MediaRow>(
          `SELECT ${MEDIA_COLUMNS} FROM catalogue_media JOIN unnest($1::text[], $2::text[]) AS wanted(a, n) ON album_path = wanted.a AND name = wanted.n`,
          [albumPaths, names],
        ),
      ]);
      return { albums: albums.rows.map(toAlbum), items: items.rows.map(toMediaItem) };
    },
    async albumRows() {
      return (await pool.query<AlbumRecord>('SELECT path, real_path, published FROM catalogue_albums ORDER BY path')).rows.map(toAlbum);
    },
    async itemsIn(albumPath) {
      return (await pool.query<MediaRow>(`SELECT ${MEDIA_COLUMNS} FROM catalogue_media WHERE album_path = $1 ORDER BY name`, [albumPath])).rows.map(toMediaItem);
    },
    async write(paths, rows) {
      if (paths.length === 0) return;
      const [albumPaths, names] = itemKeys(paths);
      await inTransaction(pool, async (client) => {
        await client.query('DELETE FROM catalogue_albums WHERE path = ANY($1)', [paths]);
        await client.query('DELETE FROM catalogue_media USING unnest($1::text[], $2::text[]) AS gone(a, n) WHERE album_path = gone.a AND name = gone.n', [albumPaths, names]);
        if (rows.albums.length > 0) {
          await client.query('INSERT INTO catalogue_albums (path, real_path, published) SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[])', [
            rows.albums.map((album) => album.path),
            rows.albums.map((album) => album.realPath),
            rows.albums.map((album) => album.published),
          ]);
        }
        if (rows.items.length > 0) await client.query(`INSERT INTO catalogue_media (${MEDIA_COLUMNS}) SELECT * FROM unnest(${ITEM_ARRAYS})`, itemColumns(rows.items));
        await client.query("INSERT INTO link_events (kind, paths) VALUES ('catalogue', $1)", [JSON.stringify(paths)]);
        await client.query(`SELECT pg_notify('${LINK_CHANNEL}', '')`);
      });
    },
  };
}

/** The column types of MEDIA_COLUMNS, for unnest: one array per column. */
const ITEM_ARRAYS = ['text', 'text', 'text', 'bigint', 'bigint', 'int', 'int', 'bigint', 'bigint', 'bigint', 'float8', 'float8', 'text', 'text', 'bigint']
  .map((type, index) => `$${index + 1}::${type}[]`)
  .join(', ');

/** The items as one array per column, from the values every engine writes (catalogue-table.ts). */
function itemColumns(items: readonly MediaItem[]): unknown[][] {
  const rows = items.map(mediaRowValues);
  return rows[0]!.map((_, column) => rows.map((row) => row[column]));
}
