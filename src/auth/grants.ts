import { UserError } from '../errors.js';

/**
 * Album patterns: `Summer 2024` (that album and everything below it), `Kids/*` (every
 * album directly inside Kids, and below), `*` (every album). `*` stands for exactly one
 * folder name. Pure functions; the links and http layers both rely on them.
 */

export class PatternError extends UserError {
  constructor(message: string) {
    super('BAD_ALBUM_PATTERN', message);
  }
}

/** Validates one pattern and returns it normalised (no leading/trailing slashes). */
export function normalisePattern(raw: string): string {
  const pattern = raw.trim().replace(/^\/+|\/+$/g, '');
  if (pattern === '') throw new PatternError(`album pattern ${JSON.stringify(raw)}: expected an album path or *`);
  for (const segment of pattern.split('/')) {
    if (segment === '' || segment.startsWith('.') || /[\0\\]/.test(segment)) {
      throw new PatternError(`album pattern ${JSON.stringify(raw)}: expected folder names separated by /, not hidden or empty`);
    }
    if (segment.includes('*') && segment !== '*') {
      throw new PatternError(`album pattern ${JSON.stringify(raw)}: * must stand alone for a whole folder name`);
    }
  }
  return pattern;
}

/** True when the album at `albumPath` matches `pattern` exactly, segment by segment. */
function matchesExactly(pattern: string, albumPath: string): boolean {
  const wanted = pattern.split('/');
  const actual = albumPath.split('/');
  return wanted.length === actual.length && wanted.every((segment, index) => segment === '*' || segment === actual[index]);
}

/** True when the album, or one of the albums containing it, matches one of the patterns. */
export function isAlbumGranted(patterns: readonly string[], albumPath: string): boolean {
  if (albumPath === '') return false;
  const segments = albumPath.split('/');
  for (let depth = 1; depth <= segments.length; depth += 1) {
    const ancestor = segments.slice(0, depth).join('/');
    if (patterns.some((pattern) => matchesExactly(pattern, ancestor))) return true;
  }
  return false;
}

/** An album where it appears (`path`) and where it really is (`realPath`): they differ behind a link. */
export interface AlbumPlace {
  readonly path: string;
  readonly realPath: string;
}

/**
 * The grant is decided on where an album really is as well as where it appears: an album
 * reached through a link shows only to keys that grant the album it leads to. (The catalogue
 * follows a link only deeper into the album holding it, so everything below an album a key may
 * see is an album it may see.)
 */
export function canSeeAlbum(patterns: readonly string[], album: AlbumPlace): boolean {
  return isAlbumGranted(patterns, album.path) && isAlbumGranted(patterns, album.realPath);
}

/** The albums a key sees that are not inside another album it sees: the roots of its view, by path. */
export function grantedRoots<Album extends AlbumPlace>(patterns: readonly string[], albums: Iterable<Album>): Album[] {
  const roots: Album[] = [];
  for (const album of albums) {
    if (!patterns.some((pattern) => matchesExactly(pattern, album.path))) continue;
    const parent = album.path.split('/').slice(0, -1).join('/');
    if (parent !== '' && isAlbumGranted(patterns, parent)) continue;
    if (canSeeAlbum(patterns, album)) roots.push(album);
  }
  return roots.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
