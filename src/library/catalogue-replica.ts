import type { AlbumRow, CatalogueTable } from './catalogue-table.js';
import { itemPath } from './catalogue-table.js';
import { isSameItem } from './catalogue-writer.js';
import type { LibraryChange } from './events.js';
import type { MediaItem } from './types.js';

/*
 * The catalogue as rows to copy between nodes (several nodes on PostgreSQL): the node that watches
 * the media root sends its rows to the shared database, every other node makes its own catalogue
 * equal to them. A change is named by relative paths: each names the album at that path and the
 * item at that path, whichever of the two exists.
 */

/** What one side holds at some paths: the rows that exist; a path with neither has nothing there. */
export interface CatalogueRows {
  readonly albums: readonly AlbumRow[];
  readonly items: readonly MediaItem[];
}

export interface CatalogueReplica {
  /** This catalogue's rows at `paths`. */
  rows(paths: readonly string[]): CatalogueRows;
  albumRows(): AlbumRow[];
  itemsIn(albumPath: string): MediaItem[];
  /** Makes this catalogue at `paths` exactly `rows` (another node's), and tells the listeners what changed. */
  apply(paths: readonly string[], rows: CatalogueRows): void;
}

export function createCatalogueReplica(deps: {
  table: CatalogueTable;
  emit: (changes: readonly LibraryChange[]) => void;
  /** A row whose file did not change was rewritten (its placeholder, when it was added): cached lookups of it are stale. */
  forget: (albumPath: string, name: string) => void;
}): CatalogueReplica {
  const { table } = deps;
  return {
    rows(paths) {
      const albums: AlbumRow[] = [];
      const items: MediaItem[] = [];
      for (const path of paths) {
        const album = table.albumRow(path);
        if (album !== undefined) albums.push(album);
        const item = table.getItem(path);
        if (item !== undefined) items.push(item);
      }
      return { albums, items };
    },
    albumRows: () => table.albumRows(),
    itemsIn: (albumPath) => table.itemsIn(albumPath),
    apply(paths, rows) {
      const albums = new Map(rows.albums.map((album) => [album.path, album]));
      const items = new Map(rows.items.map((item) => [itemPath(item), item]));
      const local = new Map(paths.flatMap((path) => {
        const album = table.albumRow(path);
        return album === undefined ? [] : [[path, album] as const];
      }));
      const events: LibraryChange[] = [];
      const rewritten: MediaItem[] = [];
      // Albums first, shallowest first, so an item never arrives before its album; removals after the items.
      const ordered = [...paths].sort((a, b) => a.length - b.length);
      table.transaction(() => {
        for (const path of ordered) {
          const wanted = albums.get(path);
          const had = local.get(path);
          if (wanted === undefined || sameAlbum(had, wanted)) continue;
          table.putAlbumRow(wanted);
          events.push({ kind: had === undefined ? 'album-added' : 'album-moved', albumPath: path });
        }
        for (const path of ordered) {
          const wanted = items.get(path);
          const had = table.getItem(path);
          if (wanted === undefined) {
            if (had === undefined) continue;
            table.deleteItem(had);
            events.push({ kind: 'item-removed', item: had });
            continue;
          }
          if (had !== undefined && JSON.stringify(had) === JSON.stringify(wanted)) continue;
          table.putItemRow(wanted);
          if (had === undefined) events.push({ kind: 'item-added', item: wanted });
          else if (isSameItem(had, wanted)) rewritten.push(wanted);
          else events.push({ kind: 'item-changed', item: wanted, previous: had });
        }
        for (const path of ordered.reverse()) {
          if (albums.has(path) || !local.has(path)) continue;
          table.deleteAlbum(path);
          events.push({ kind: 'album-removed', albumPath: path });
        }
      });
      for (const item of rewritten) deps.forget(item.albumPath, item.name);
      deps.emit(events);
    },
  };
}

function sameAlbum(a: AlbumRow | undefined, b: AlbumRow): boolean {
  return a !== undefined && a.realPath === b.realPath && a.published === b.published;
}

/** The paths a batch of catalogue changes wrote: what another node must copy. */
export function pathsOf(changes: readonly LibraryChange[]): string[] {
  return changes.map((change) => ('albumPath' in change ? change.albumPath : itemPath(change.item)));
}
