import path from 'node:path';

/*
 * Catalogue paths are `/`-separated and relative to the media root, whatever the host's
 * separator: '' is the root itself, 'Summer 2024/Beach' an album, 'Summer 2024/a.jpg' a file.
 */

export function joinRelative(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

/** Splits a file's relative path into its album ('' for loose files at the top) and its name. */
export function splitRelative(relativePath: string): { albumPath: string; name: string } {
  const slash = relativePath.lastIndexOf('/');
  return slash === -1
    ? { albumPath: '', name: relativePath }
    : { albumPath: relativePath.slice(0, slash), name: relativePath.slice(slash + 1) };
}

export function parentOf(relativePath: string): string {
  return splitRelative(relativePath).albumPath;
}

/** 'a/b/c' → ['a', 'a/b', 'a/b/c']: every album that must exist for 'a/b/c' to be one. */
export function albumChain(albumPath: string): string[] {
  if (albumPath === '') return [];
  const segments = albumPath.split('/');
  return segments.map((_, index) => segments.slice(0, index + 1).join('/'));
}

/**
 * Bounds of a prefix range query for everything strictly below `prefix`: '/' sorts just
 * before '0' in every collation SQLite uses for TEXT, so `> 'p/' AND < 'p0'` matches
 * exactly the paths starting with 'p/' and still uses the index (LIKE would not).
 */
export function belowBounds(prefix: string): { lower: string; upper: string } {
  return { lower: `${prefix}/`, upper: `${prefix}0` };
}

export function hasHiddenSegment(relativePath: string): boolean {
  return relativePath !== '' && relativePath.split('/').some((segment) => segment.startsWith('.'));
}

/** The relative catalogue path of an absolute path under `root` (both native, absolute). */
export function toRelative(root: string, absolutePath: string): string {
  return path.relative(root, absolutePath).split(path.sep).join('/');
}

export function toAbsolute(root: string, relativePath: string): string {
  return relativePath === '' ? root : path.join(root, ...relativePath.split('/'));
}
