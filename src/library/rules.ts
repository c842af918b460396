import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { isWithin } from '../paths.js';
import type { MediaRoot } from './media-root.js';
import { mediaKindOf, unservableName, type MediaKind } from '../media-contract.js';
import { hasHiddenSegment, joinRelative, splitRelative, toRelative } from './relative-path.js';
import type { SkipReason, SkipRecord } from './skip-reasons.js';

/** A folder being looked into, with the real path of it and every folder above it (to catch link loops). */
export interface ParentFolder {
  readonly relativePath: string;
  readonly realPath: string;
  /** Real paths from the media root down to this folder, inclusive. */
  readonly chain: readonly string[];
}

/** A media file worth cataloguing, as far as its name and stat can tell. */
export interface Candidate {
  readonly relativePath: string;
  /** The path to read: the real parent folder plus the entry's name (a file link is followed when read). */
  readonly file: string;
  /** The real path of the folder holding it: what is read must really lie inside it. */
  readonly folder: string;
  readonly type: MediaKind;
  readonly size: number;
  readonly mtimeMs: number;
  /** The inode's last change (ctime): a write, a rename or a link. Unlike mtime, no copy tool can set it back. */
  readonly changedMs: number;
}

export type Classified =
  /** `realPath`: where the album really is, relative to the root (the grant is decided on it too). */
  | { readonly kind: 'album'; readonly folder: ParentFolder; readonly linked: boolean; readonly realPath: string }
  | { readonly kind: 'media'; readonly candidate: Candidate }
  | { readonly kind: 'skip'; readonly record: SkipRecord; readonly detail?: string }
  | { readonly kind: 'gone'; readonly relativePath: string };

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

export function entryKindOf(stats: Pick<Stats, 'isFile' | 'isDirectory' | 'isSymbolicLink'>): EntryKind {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isDirectory()) return 'directory';
  return stats.isFile() ? 'file' : 'other';
}

/**
 * The catalogue's rules for one directory entry, shared by the scanner and the watcher:
 * hidden names, non-media extensions, empty files and odd file kinds are skipped, and a
 * symlink counts only when its real target stays inside the media root, is not hidden,
 * and (for folders) does not lead back to a folder above it.
 */
export function classifyEntry(root: MediaRoot, parent: ParentFolder, name: string, kind: EntryKind): Classified {
  const relativePath = joinRelative(parent.relativePath, name);
  if (root.ignores(name)) return skip(relativePath, 'ignored');
  if (name.startsWith('.')) return skip(relativePath, 'hidden');
  const unservable = unservableName(name);
  if (unservable !== undefined) return skip(relativePath, unservable);
  const file = path.join(parent.realPath, name);
  try {
    switch (kind) {
      case 'directory':
        return { kind: 'album', folder: childFolder(parent, relativePath, file), linked: false, realPath: toRelative(root.realPath, file) };
      case 'file':
        // Named before stat'ed: a folder of sidecar files costs no system calls.
        if (mediaKindOf(name) === undefined) return skip(relativePath, 'not-media');
        return classifyFile(relativePath, parent.realPath, file, lstatSync(file));
      case 'symlink':
        return classifyLink(root, parent, relativePath, file);
      case 'other':
        return skip(relativePath, 'not-regular');
    }
  } catch (error) {
    if (isGoneError(error)) return { kind: 'gone', relativePath };
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { kind: 'skip', record: { path: relativePath, reason: 'unreadable', size: 0, mtimeMs: 0 }, detail: code };
  }
}

function classifyFile(relativePath: string, folder: string, file: string, stats: Stats, target = file): Classified {
  const type = mediaKindOf(relativePath);
  if (type === undefined || mediaKindOf(target) !== type) return skip(relativePath, 'not-media');
  if (!stats.isFile()) return skip(relativePath, 'not-regular');
  const size = stats.size;
  const mtimeMs = Math.trunc(stats.mtimeMs);
  if (size === 0) return skip(relativePath, 'empty', size, mtimeMs);
  return { kind: 'media', candidate: { relativePath, file, folder, type, size, mtimeMs, changedMs: stats.ctimeMs } };
}

function classifyLink(root: MediaRoot, parent: ParentFolder, relativePath: string, file: string): Classified {
  let target: string;
  try {
    target = realpathSync.native(file);
  } catch (error) {
    if (isGoneError(error) || (error as NodeJS.ErrnoException).code === 'ELOOP') return skip(relativePath, 'symlink-broken');
    throw error;
  }
  if (!isWithin(root.realPath, target)) return skip(relativePath, 'symlink-outside');
  const inRoot = toRelative(root.realPath, target);
  if (hasHiddenSegment(inRoot)) return skip(relativePath, 'symlink-hidden');
  // What is never catalogued by its own path (a recycle bin's photos) is not through a link either.
  if (inRoot.split('/').some((segment) => root.ignores(segment))) return skip(relativePath, 'symlink-ignored');
  const stats = statSync(target);
  // A link to this folder or any folder above it would make the walk endless.
  if (stats.isDirectory() && parent.chain.some((above) => isWithin(target, above))) return skip(relativePath, 'symlink-loop');
  // The grant is decided on where a file really is: a link may only lead deeper into the album
  // that holds it, never sideways into another album, so whoever sees the link may see its target.
  if (!isWithin(parent.realPath, target)) return skip(relativePath, 'symlink-crosses-albums');
  if (!stats.isDirectory()) {
    if (root.photoLinksStayInFolder && path.dirname(target) !== parent.realPath) return skip(relativePath, 'symlink-waits');
    return classifyFile(relativePath, parent.realPath, file, stats, target);
  }
  return {
    kind: 'album',
    folder: { relativePath, realPath: target, chain: [...parent.chain, target] },
    linked: true,
    realPath: toRelative(root.realPath, target),
  };
}

function childFolder(parent: ParentFolder, relativePath: string, realPath: string): ParentFolder {
  return { relativePath, realPath, chain: [...parent.chain, realPath] };
}

function skip(relativePath: string, reason: SkipReason, size = 0, mtimeMs = 0): Classified {
  return { kind: 'skip', record: { path: relativePath, reason, size, mtimeMs } };
}

export function isGoneError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The media root as the folder every walk starts from. */
export function rootFolder(root: MediaRoot): ParentFolder {
  return { relativePath: '', realPath: root.realPath, chain: [root.realPath] };
}

/**
 * Looks up one path the watcher reported, with the same rules as a scan. Resolves the
 * real path of each folder above it, since a watched path may lie below a linked folder.
 */
export function classifyPath(root: MediaRoot, relativePath: string): Classified {
  const { albumPath, name } = splitRelative(relativePath);
  try {
    const parent = folderAt(root, albumPath);
    if ('reason' in parent) return skip(parent.relativePath, parent.reason);
    return classifyEntry(root, parent, name, entryKindOf(lstatSync(path.join(parent.realPath, name))));
  } catch (error) {
    if (isGoneError(error)) return { kind: 'gone', relativePath };
    throw error;
  }
}

/**
 * The folder at `albumPath`, or the first folder above it whose real path leaves the folder
 * holding it (out of the root, or into another album): the scan's rules, folder by folder.
 */
function folderAt(root: MediaRoot, albumPath: string): ParentFolder | { relativePath: string; reason: SkipReason } {
  let folder = rootFolder(root);
  if (albumPath === '') return folder;
  for (const segment of albumPath.split('/')) {
    const relativePath = joinRelative(folder.relativePath, segment);
    if (root.ignores(segment)) return { relativePath, reason: 'ignored' };
    const realPath = realpathSync.native(root.absolute(relativePath));
    if (!isWithin(root.realPath, realPath)) return { relativePath, reason: 'symlink-outside' };
    if (!isWithin(folder.realPath, realPath) || realPath === folder.realPath) return { relativePath, reason: 'symlink-crosses-albums' };
    folder = childFolder(folder, relativePath, realPath);
  }
  return folder;
}
