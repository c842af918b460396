import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { compileIgnoredNames, DEFAULT_IGNORED_NAMES } from './ignored-names.js';
import { toAbsolute } from './relative-path.js';

/** Thrown when the media root cannot be used at all; nothing is removed from the catalogue then. */
export class LibraryError extends UserError {
  constructor(code: 'MEDIA_ROOT_UNREADABLE', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export interface MediaRoot {
  /** The real (symlink-free) absolute path: what is walked, watched and checked against. */
  readonly realPath: string;
  /** Names that are never an album or a photo (a NAS's recycle bin, thumbnails, OS litter). */
  ignores(name: string): boolean;
  /**
   * The publish gate is on: a photo link is followed only to a photo in its own folder. One into a
   * folder below would show that folder's photo in the published album while the folder waits.
   */
  readonly photoLinksStayInFolder: boolean;
  absolute(relativePath: string): string;
  /**
   * False when the root looks unmounted: gone, or on another device than at start-up (an
   * unmounted share leaves its empty mount point behind). Removing rows then would wipe the
   * catalogue, and through the change events every derivative, because a NAS dropped for a minute.
   */
  allowsRemovals(): boolean;
}

export function openMediaRoot(mediaRoot: string, log: Logger, ignoredNames: readonly string[] = DEFAULT_IGNORED_NAMES, reviewGate = false): MediaRoot {
  let realPath: string;
  let device: number;
  try {
    realPath = realpathSync.native(path.resolve(mediaRoot));
    device = statSync(realPath).dev;
  } catch (error) {
    throw new LibraryError('MEDIA_ROOT_UNREADABLE', `media root ${mediaRoot} cannot be read`, { cause: error });
  }
  return {
    realPath,
    ignores: compileIgnoredNames(ignoredNames),
    photoLinksStayInFolder: reviewGate,
    absolute: (relativePath) => toAbsolute(realPath, relativePath),
    allowsRemovals() {
      const problem = mountProblem(realPath, device);
      if (problem !== undefined) {
        log.warn({ mediaRoot: realPath, problem }, 'media root looks unmounted; nothing is removed from the catalogue');
      }
      return problem === undefined;
    },
  };
}

function mountProblem(realPath: string, device: number): string | undefined {
  try {
    if (statSync(realPath).dev !== device) {
      return 'it is on another device than at start-up (restart keepsake if that is intended)';
    }
    return undefined;
  } catch (error) {
    return `it cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}
