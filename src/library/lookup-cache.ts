import type { ChangeListener, LibraryChange } from './events.js';
import type { AlbumLocation, MediaItem } from './types.js';

/*
 * The two questions every media request asks the catalogue (where is this album, what is this
 * item), answered from memory. Each SQLite read takes a read lock on the database, two fcntl()
 * calls, and under load that measured 50 µs a query, a third of serving a cached photo. This
 * process is the catalogue's only writer (the scanner and the watcher), and every write it makes
 * is announced as a change event after its commit: an entry is dropped the moment the catalogue
 * changes it, before the next request can ask. Only answers that found something are kept.
 */

export interface CatalogueLookups {
  album(albumPath: string): AlbumLocation | undefined;
  item(albumPath: string, name: string): MediaItem | undefined;
}

/** Enough for the photos a busy gallery shows in a while; past it the oldest entries go. */
const ITEMS_KEPT = 100_000;

export interface LookupCache extends CatalogueLookups {
  /** Drops an item after a write that announces no change (its placeholder, made in the background). */
  forget(albumPath: string, name: string): void;
}

export function createLookupCache(queries: CatalogueLookups, subscribe: (listener: ChangeListener) => () => void): LookupCache {
  const albums = new Map<string, AlbumLocation>();
  const items = new Map<string, MediaItem>();
  const itemKey = (albumPath: string, name: string) => `${albumPath}\0${name}`;

  subscribe((change: LibraryChange) => {
    switch (change.kind) {
      case 'album-added':
      case 'album-removed':
      case 'album-moved':
        // Albums below may have moved with it; a whole-cache drop is rare and cheap.
        albums.clear();
        items.clear();
        return;
      case 'item-added':
      case 'item-changed':
      case 'item-removed':
        items.delete(itemKey(change.item.albumPath, change.item.name));
        return;
    }
  });

  return {
    forget(albumPath, name) {
      items.delete(itemKey(albumPath, name));
    },
    album(albumPath) {
      const cached = albums.get(albumPath);
      if (cached !== undefined) return cached;
      const found = queries.album(albumPath);
      if (found !== undefined) albums.set(albumPath, found);
      return found;
    },
    item(albumPath, name) {
      const key = itemKey(albumPath, name);
      const cached = items.get(key);
      if (cached !== undefined) return cached;
      const found = queries.item(albumPath, name);
      if (found !== undefined) {
        if (items.size >= ITEMS_KEPT) items.delete(items.keys().next().value!);
        items.set(key, found);
      }
      return found;
    },
  };
}
