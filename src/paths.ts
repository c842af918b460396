import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** Thrown for every path a visitor may not reach; the HTTP layer turns it into the uniform 404. */
export class PathRejectedError extends Error {
  readonly code = 'PATH_REJECTED';
  constructor(readonly reason: string) {
    super(`path rejected: ${reason}`);
  }
}

const FORBIDDEN_CHARACTERS = /[\0\\]/;

/**
 * Splits a URL path (still percent-encoded) into safe segments: decoded exactly once,
 * no NUL or backslash, no empty, `.` or `..` segments and no dot-files. Pure; the
 * only place a request path is parsed.
 */
export function splitRequestPath(encodedPath: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encodedPath);
  } catch {
    throw new PathRejectedError('malformed percent-encoding');
  }
  if (FORBIDDEN_CHARACTERS.test(decoded)) throw new PathRejectedError('NUL byte or backslash');
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  if (trimmed === '') throw new PathRejectedError('empty path');
  const segments = trimmed.split('/');
  for (const segment of segments) {
    if (segment === '') throw new PathRejectedError('empty segment');
    // Covers `.`, `..` and every hidden file or folder.
    if (segment.startsWith('.')) throw new PathRejectedError('dot segment or hidden file');
  }
  return segments;
}

/** True when `child` is `parent` itself or lies below it (both absolute and normalised). */
export function isWithin(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * The only way a request path becomes a file path: splits `encodedPath` safely, joins it
 * under `base` (which may itself be a symlink, such as a token link), resolves every link
 * with realpath, and accepts the result only when it lies inside one of `allowedRoots`
 * (real, absolute paths). A symlink planted in the media root that points elsewhere is
 * therefore never followed out.
 */
export async function resolveInside(
  base: string,
  encodedPath: string,
  allowedRoots: readonly string[],
): Promise<string> {
  const segments = splitRequestPath(encodedPath);
  const lexical = path.join(base, ...segments);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (error) {
    throw new PathRejectedError(`cannot resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const root = allowedRoots.find((candidate) => isWithin(candidate, real) && real !== candidate);
  if (root === undefined) throw new PathRejectedError('resolves outside the allowed roots');
  // A link inside the root may still point at a hidden file; what is served must not be one.
  if (path.relative(root, real).split(path.sep).some((segment) => segment.startsWith('.'))) {
    throw new PathRejectedError('resolves to a hidden file');
  }
  return real;
}
