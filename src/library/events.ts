import type { Logger } from '../log.js';
import type { MediaItem } from './types.js';

export type AlbumChange = {
  /** `album-moved`: the same album path now leads somewhere else (a folder replaced by a link). */
  readonly kind: 'album-added' | 'album-removed' | 'album-moved';
  readonly albumPath: string;
};

export type ItemChange =
  | { readonly kind: 'item-added' | 'item-removed'; readonly item: MediaItem }
  /** `previous` lets listeners drop derivatives keyed by the old size and mtime. */
  | { readonly kind: 'item-changed'; readonly item: MediaItem; readonly previous: MediaItem };

/** What listeners hear after the catalogue has been updated (never before the commit). */
export type LibraryChange = AlbumChange | ItemChange;

export type ChangeListener = (change: LibraryChange) => void;

export interface ChangeEmitter {
  subscribe(listener: ChangeListener): () => void;
  emit(changes: readonly LibraryChange[]): void;
}

/**
 * A listener that throws must not stop the catalogue nor the other listeners: the error
 * is logged and delivery goes on.
 */
export function createChangeEmitter(log: Logger): ChangeEmitter {
  const listeners = new Set<ChangeListener>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    emit(changes) {
      for (const change of changes) {
        for (const listener of listeners) {
          try {
            listener(change);
          } catch (error) {
            log.error({ err: error, change: change.kind }, 'library change listener failed');
          }
        }
      }
    },
  };
}
