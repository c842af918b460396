import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isWithin } from '../paths.js';
import { DerivativeError, writeErrorFrom } from './errors.js';
import { TEMP_PREFIX } from './naming.js';

/**
 * Writes `data` to a new file at `file` and makes it durable. Replaceable (option `writeFile`)
 * so tests can inject a disk that fills up half way.
 */
export type WriteFile = (file: string, data: Uint8Array) => Promise<void>;

/** open (exclusive) → write → fsync → close. */
export const writeFileDurably: WriteFile = async (file, data) => {
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    // Without it a power cut can leave a renamed but empty file. The directory is not
    // fsync'd: losing the rename only costs a re-make, and a cache miss is harmless.
    await handle.datasync();
  } finally {
    await handle.close();
  }
};

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Unlinks `file`; false when it was already gone. Never follows a link (unlink cannot). */
async function unlinkIfPresent(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

export interface AtomicWriter {
  /** Writes to `.tmp-…` beside `file` and renames it into place; on failure removes the temp file. */
  write(file: string, data: Uint8Array): Promise<void>;
  /** The same, where `fill` writes the temp file itself (a program writing its output to a path). */
  writeWith(file: string, fill: (temp: string) => Promise<void>): Promise<void>;
  /** Is a temp file of this name (no folder) being written right now? A clean-up must leave it. */
  isActive(tempName: string): boolean;
}

export function createAtomicWriter(writeFile: WriteFile): AtomicWriter {
  const active = new Set<string>();

  async function fillTemp(directory: string, temp: string, fill: (temp: string) => Promise<void>): Promise<void> {
    await mkdir(directory, { recursive: true });
    try {
      await fill(temp);
    } catch (error) {
      // A prune may have removed the (empty) album folder between mkdir and open. A program
      // writing to a path says so in its own words, not with an errno: the folder itself tells.
      if (errnoCode(error) !== 'ENOENT' && (await isFolder(directory))) throw error;
      await mkdir(directory, { recursive: true });
      await fill(temp);
    }
  }

  async function writeWith(file: string, fill: (temp: string) => Promise<void>): Promise<void> {
    const directory = path.dirname(file);
    const tempName = `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`;
    const temp = path.join(directory, tempName);
    active.add(tempName);
    try {
      await fillTemp(directory, temp, fill);
      await rename(temp, file);
    } catch (error) {
      const failure = writeErrorFrom(error, path.basename(file));
      try {
        await unlinkIfPresent(temp);
      } catch (cleanupError) {
        throw new DerivativeError(failure.code, `${failure.message}; temp file ${temp} not removed`, {
          cause: new AggregateError([error, cleanupError]),
        });
      }
      throw failure;
    } finally {
      active.delete(tempName);
    }
  }

  return {
    write: (file, data) => writeWith(file, (temp) => writeFile(temp, data)),
    writeWith,
    isActive: (tempName) => active.has(tempName),
  };
}

async function isFolder(directory: string): Promise<boolean> {
  return lstat(directory).then((stats) => stats.isDirectory(), () => false);
}

/** Is `file` a regular file (not a link, not a folder)? */
export async function isRegularFile(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isFile();
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

/** The cache folder's real path, or undefined when it does not exist yet. */
async function realCacheDir(cacheDir: string): Promise<string | undefined> {
  try {
    return await realpath(cacheDir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

async function readFolder(folder: string): Promise<Dirent[]> {
  try {
    return await readdir(folder, { withFileTypes: true });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

/** One regular file in the cache, as the walkers see it. */
export interface CacheEntry {
  readonly file: string;
  /** Path segments below the cache folder: [variant, ...albumFolders, leaf]. */
  readonly segments: readonly string[];
}

/**
 * Visits every regular file below `folder` (segments relative to the cache root) and unlinks
 * those `shouldDelete` picks. Never descends into a link (Dirent types come from lstat-like
 * `d_type`), re-checks with realpath that each folder is still inside the cache, and
 * removes folders that the deletions left empty (never the cache root or a variant folder).
 */
async function sweepFolder(
  root: string,
  segments: readonly string[],
  shouldDelete: (entry: CacheEntry) => boolean,
): Promise<number> {
  const folder = path.join(root, ...segments);
  if (segments.length > 0 && !(await stillInside(root, folder))) return 0;
  let deleted = 0;
  for (const dirent of await readFolder(folder)) {
    const childSegments = [...segments, dirent.name];
    const child = path.join(folder, dirent.name);
    if (dirent.isDirectory()) {
      deleted += await sweepFolder(root, childSegments, shouldDelete);
      await removeIfEmpty(child, childSegments.length);
    } else if (dirent.isFile() && shouldDelete({ file: child, segments: childSegments })) {
      if (await unlinkIfPresent(child)) deleted += 1;
    }
  }
  return deleted;
}

/** Guards against a folder swapped for a link between readdir and descent. */
async function stillInside(root: string, folder: string): Promise<boolean> {
  try {
    return isWithin(root, await realpath(folder));
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

/** Removes an album folder left empty; variant folders (depth 1) stay for the view links. */
async function removeIfEmpty(folder: string, depth: number): Promise<void> {
  if (depth < 2) return;
  try {
    await rmdir(folder);
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw error;
  }
}

/** Sweeps the whole cache. */
export async function sweepCache(cacheDir: string, shouldDelete: (entry: CacheEntry) => boolean): Promise<number> {
  const root = await realCacheDir(cacheDir);
  return root === undefined ? 0 : sweepFolder(root, [], shouldDelete);
}

/**
 * Unlinks the regular files directly inside `<cacheDir>/<variant>/<albumPath>` for every
 * variant folder present (configured or not) that `shouldDelete` picks. Only real folders are
 * entered: a link anywhere on the way means the folder is skipped.
 */
export async function sweepAlbum(
  cacheDir: string,
  albumPath: string,
  shouldDelete: (leaf: string) => boolean,
): Promise<number> {
  const root = await realCacheDir(cacheDir);
  if (root === undefined) return 0;
  const albumSegments = albumPath === '' ? [] : albumPath.split('/');
  let deleted = 0;
  for (const variant of await readFolder(root)) {
    if (!variant.isDirectory()) continue;
    const folder = await realFolderBelow(root, [variant.name, ...albumSegments]);
    if (folder === undefined) continue;
    for (const dirent of await readFolder(folder)) {
      if (dirent.isFile() && shouldDelete(dirent.name) && (await unlinkIfPresent(path.join(folder, dirent.name)))) {
        deleted += 1;
      }
    }
  }
  return deleted;
}

/** `root/…segments` when every step is a real folder (lstat: no links), else undefined. */
async function realFolderBelow(root: string, segments: readonly string[]): Promise<string | undefined> {
  let folder = root;
  for (const segment of segments) {
    folder = path.join(folder, segment);
    try {
      if (!(await lstat(folder)).isDirectory()) return undefined;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw error;
    }
  }
  return folder;
}
