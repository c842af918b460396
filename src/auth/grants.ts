/**
 * Album patterns: `Summer 2024` (that album and everything below it), `Kids/*` (every
 * album directly inside Kids, and below), `*` (every album). `*` stands for exactly one
 * folder name. Pure functions; the links and http layers both rely on them.
 */

export class PatternError extends Error {
  readonly code = 'BAD_ALBUM_PATTERN';
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

/** The granted albums that are not inside another granted album: the roots of what a key sees. */
export function grantedRoots(patterns: readonly string[], albumPaths: Iterable<string>): string[] {
  const roots: string[] = [];
  for (const albumPath of albumPaths) {
    if (!patterns.some((pattern) => matchesExactly(pattern, albumPath))) continue;
    const parent = albumPath.split('/').slice(0, -1).join('/');
    if (parent !== '' && isAlbumGranted(patterns, parent)) continue;
    roots.push(albumPath);
  }
  return roots.sort();
}
