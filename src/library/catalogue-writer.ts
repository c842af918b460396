import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import type { Logger } from '../log.js';
import type { CatalogueTable } from './catalogue-table.js';
import { itemPath } from './catalogue-table.js';
import type { LibraryChange } from './events.js';
import type { MediaRoot } from './media-root.js';
import { isWithin } from '../paths.js';
import { albumChain, toRelative } from './relative-path.js';
import { isGoneError } from './rules.js';
import { samePhotoInfo } from './photo-info.js';
import { isSameSkip, SKIP_REASONS, WARNING_REASONS, type SkipRecord } from './skip-reasons.js';
import type { MediaItem } from './types.js';

/**
 * One fact about the media root, to be written. Facts may be seconds old when they arrive
 * (a scan reads thousands of files; the watcher may see the same file meanwhile), so the
 * writer checks each against the disk at commit time and drops the stale ones. That keeps
 * the scanner and the watcher from undoing each other without a lock between them.
 */
export type Change =
  | { readonly op: 'album'; readonly albumPath: string }
  | { readonly op: 'item'; readonly item: MediaItem; readonly file: string }
  | { readonly op: 'skip'; readonly record: SkipRecord; readonly detail?: string | undefined }
  /** The path was not found: remove whatever the catalogue has at or below it, if it is really gone. */
  | { readonly op: 'forget'; readonly relativePath: string };

export interface CommitCounts {
  added: number;
  updated: number;
  removed: number;
}

export interface CatalogueWriter {
  /** Writes `changes` in one transaction, then logs new skips and emits the change events. */
  commit(changes: readonly Change[]): CommitCounts;
}

interface Pending {
  readonly events: LibraryChange[];
  readonly skipsToLog: Array<{ record: SkipRecord; detail: string | undefined }>;
  readonly removalsAllowed: () => boolean;
}

export function createCatalogueWriter(deps: {
  table: CatalogueTable;
  root: MediaRoot;
  log: Logger;
  emit: (changes: readonly LibraryChange[]) => void;
}): CatalogueWriter {
  const { table, root, log } = deps;

  /**
   * Makes sure every album down to `albumPath` is catalogued with where it really is. Known
   * albums are trusted unless `recheck` (an album the scan or the watcher just saw): then the
   * last one's real path is read again, since a folder may have become a link.
   */
  function ensureAlbums(albumPath: string, pending: Pending, recheck = false): void {
    const chain = albumChain(albumPath);
    for (const [index, path] of chain.entries()) {
      const known = table.albumRealPath(path);
      if (known !== undefined && known !== null && !(recheck && index === chain.length - 1)) continue;
      const realPath = realRelativePath(root, path);
      if (realPath === undefined || realPath === known) continue;
      table.putAlbum(path, realPath);
      if (known !== undefined) {
        pending.events.push({ kind: 'album-moved', albumPath: path });
        continue;
      }
      table.deleteSkip(path);
      pending.events.push({ kind: 'album-added', albumPath: path });
    }
  }

  function forget(relativePath: string, pending: Pending): void {
    if (!pending.removalsAllowed()) return;
    const { items, albums, skips } = table.subtree(relativePath);
    for (const item of items) {
      table.deleteItem(item);
      pending.events.push({ kind: 'item-removed', item });
    }
    for (const albumPath of albums) {
      table.deleteAlbum(albumPath);
      pending.events.push({ kind: 'album-removed', albumPath });
    }
    for (const path of skips) table.deleteSkip(path);
  }

  function applyAlbum(albumPath: string, pending: Pending): void {
    const stats = probe(root.absolute(albumPath), statSync);
    if (typeof stats !== 'string' && stats.isDirectory()) ensureAlbums(albumPath, pending, true);
  }

  function applyItem(item: MediaItem, file: string, pending: Pending): void {
    const relativePath = itemPath(item);
    const stats = probe(file, statSync);
    if (stats === 'gone') return forget(relativePath, pending);
    // Unreadable now, or changed again since it was read: the next event or scan brings the new version.
    if (stats === 'unknown' || stats.size !== item.size || Math.trunc(stats.mtimeMs) !== item.mtimeMs) return;
    ensureAlbums(item.albumPath, pending);
    table.deleteSkip(relativePath);
    const previous = table.getItem(relativePath);
    if (previous !== undefined && isSameItem(previous, item)) return;
    table.putItem(item);
    pending.events.push(
      previous === undefined ? { kind: 'item-added', item } : { kind: 'item-changed', item, previous },
    );
  }

  function applySkip(record: SkipRecord, detail: string | undefined, pending: Pending): void {
    const stats = probe(root.absolute(record.path), lstatSync);
    if (stats === 'gone') return forget(record.path, pending);
    if (stats === 'unknown') return;
    const previous = table.getSkip(record.path);
    // Whatever was catalogued at or below a path that is now skipped goes.
    forget(record.path, pending);
    table.putSkip(record);
    if (!isSameSkip(previous, record)) pending.skipsToLog.push({ record, detail });
  }

  function apply(change: Change, pending: Pending): void {
    switch (change.op) {
      case 'album':
        return applyAlbum(change.albumPath, pending);
      case 'item':
        return applyItem(change.item, change.file, pending);
      case 'skip':
        return applySkip(change.record, change.detail, pending);
      case 'forget':
        if (probe(root.absolute(change.relativePath), lstatSync) === 'gone') forget(change.relativePath, pending);
        return;
    }
  }

  return {
    commit(changes) {
      if (changes.length === 0) return { added: 0, updated: 0, removed: 0 };
      const pending: Pending = { events: [], skipsToLog: [], removalsAllowed: once(() => root.allowsRemovals()) };
      table.transaction(() => {
        for (const change of changes) apply(change, pending);
      });
      for (const { record, detail } of pending.skipsToLog) logSkip(log, record, detail);
      deps.emit(pending.events);
      return countEvents(pending.events);
    },
  };
}

/** Where an album really is, relative to the root; undefined when it is gone or leads out of the root. */
export function realRelativePath(root: MediaRoot, albumPath: string): string | undefined {
  let real: string;
  try {
    real = realpathSync.native(root.absolute(albumPath));
  } catch {
    return undefined;
  }
  return isWithin(root.realPath, real) && real !== root.realPath ? toRelative(root.realPath, real) : undefined;
}

function logSkip(log: Logger, record: SkipRecord, detail: string | undefined): void {
  const level = WARNING_REASONS.has(record.reason) ? 'warn' : 'info';
  log[level]({ path: record.path, reason: record.reason, detail }, `skipped ${record.path}: ${SKIP_REASONS[record.reason]}`);
}

/** The same file with the same facts: only what the catalogue adds of its own (placeholder, when added) may differ. */
export function isSameItem(a: MediaItem, b: MediaItem): boolean {
  return (
    a.type === b.type &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.width === b.width &&
    a.height === b.height &&
    a.takenAt === b.takenAt &&
    samePhotoInfo(a.info, b.info)
  );
}

/** Stats, or whether the path is gone; 'unknown' (EACCES, EIO…) means the fact cannot be checked, so it is dropped. */
function probe(file: string, stat: (file: string) => Stats): Stats | 'gone' | 'unknown' {
  try {
    return stat(file);
  } catch (error) {
    return isGoneError(error) ? 'gone' : 'unknown';
  }
}

function once<T>(compute: () => T): () => T {
  let result: { value: T } | undefined;
  return () => (result ??= { value: compute() }).value;
}

function countEvents(events: readonly LibraryChange[]): CommitCounts {
  const counts: CommitCounts = { added: 0, updated: 0, removed: 0 };
  for (const event of events) {
    if (event.kind === 'item-added') counts.added += 1;
    else if (event.kind === 'item-changed') counts.updated += 1;
    else if (event.kind === 'item-removed') counts.removed += 1;
  }
  return counts;
}
