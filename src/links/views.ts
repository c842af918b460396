import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, rename, rmdir, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { grantedRoots, type AlbumPlace } from '../auth/index.js';
import type { Logger } from '../log.js';
import { viewVariants } from '../media-contract.js';
import { isWithin } from '../paths.js';

/** What one view shows: the albums (patterns) of a key or share, and whether it may read originals. */
export interface ViewSpec {
  readonly name: string;
  readonly albums: readonly string[];
  readonly canDownloadOriginals: boolean;
}

export interface ViewsOptions {
  readonly viewsDir: string;
  /** Real paths. */
  readonly mediaRoot: string;
  readonly cacheDir: string;
  /** The configured derivative presets: each is a folder of every view. */
  readonly derivativeVariants: readonly string[];
  /** The publish gate is on: no folder of the media root is linked (see viewVariants). */
  readonly reviewGate: boolean;
  readonly log: Logger;
}

const VIEW_NAME = /^[a-z]+-[A-Za-z0-9_-]{1,64}$/;

export type Views = ReturnType<typeof createViews>;

/** Whether `album` lies inside `root`, where it appears (its cache folder) or where it really is (its folder). */
function isBelow(root: AlbumPlace, album: AlbumPlace): boolean {
  return album.path.startsWith(`${root.path}/`) || album.realPath.startsWith(`${root.realPath}/`);
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

/**
 * Per-key views: `views/<name>/<variant>/<album>` symlinks into the media root (originals)
 * or the cache (derivatives), for exactly the albums the key grants. Token links point at
 * a view, so the filesystem itself enforces the grant, for keepsake and a static server
 * alike, and a view that gains an album shows it to every session at once.
 */
export function createViews(options: ViewsOptions) {
  const { viewsDir, mediaRoot, cacheDir, derivativeVariants, reviewGate, log } = options;

  function dirOf(name: string): string {
    if (!VIEW_NAME.test(name)) throw new Error(`view name: expected kind-id, got ${JSON.stringify(name)}`);
    return path.join(viewsDir, name);
  }

  /** The variant folders of a view: the media contract says which a grant holds on disk. */
  function variantsOf(spec: ViewSpec): string[] {
    return viewVariants(spec.canDownloadOriginals, derivativeVariants, reviewGate).map((rule) => rule.name);
  }

  /**
   * `<variant>/<album>` → its target, for every root album the grant sees. Originals link to
   * where the album really is; derivatives to the album's folder in the cache.
   */
  function desiredLinks(spec: ViewSpec, albums: Iterable<AlbumPlace>, withheld: readonly AlbumPlace[]): Map<string, string> {
    // A link to an album's folder shows everything below it: a root holding an album that waits
    // for review gets none, and a static server hands its requests to keepsake, which knows.
    const roots = grantedRoots(spec.albums, albums).filter((root) => !withheld.some((album) => isBelow(root, album)));
    const links = new Map<string, string>();
    for (const rule of viewVariants(spec.canDownloadOriginals, derivativeVariants, reviewGate)) {
      for (const root of roots) {
        const target = rule.source === 'media-root' ? path.join(mediaRoot, ...root.realPath.split('/')) : path.join(cacheDir, rule.name, ...root.path.split('/'));
        links.set(path.join(rule.name, ...root.path.split('/')), target);
      }
    }
    return links;
  }

  /** Removes links that should not be there (or point elsewhere); returns those that are right. */
  async function prune(dir: string, relative: string, desired: Map<string, string>, kept: Set<string>, variants: ReadonlySet<string>): Promise<void> {
    for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
      // Dot-names are links being placed by another sync (this process or the CLI's).
      if (entry.name.startsWith('.')) continue;
      const entryPath = path.join(relative, entry.name);
      const absolute = path.join(dir, entryPath);
      if (entry.isSymbolicLink()) {
        const target = await readlink(absolute).catch(() => undefined);
        if (target !== undefined && desired.get(entryPath) === target) kept.add(entryPath);
        else await unlink(absolute).catch(ignoreMissing);
      } else if (entry.isDirectory()) {
        await prune(dir, entryPath, desired, kept, variants);
        const isNeeded = (relative === '' && variants.has(entry.name)) || [...desired.keys()].some((link) => link.startsWith(entryPath + path.sep));
        if (!isNeeded) await rmdir(absolute).catch(() => undefined);
      } else {
        log.warn({ path: absolute }, 'unexpected file in a view; left in place');
      }
    }
  }

  async function placeLink(linkPath: string, target: string): Promise<void> {
    await mkdir(path.dirname(linkPath), { recursive: true });
    const temporary = path.join(path.dirname(linkPath), `.${path.basename(linkPath)}.${randomBytes(6).toString('hex')}`);
    await symlink(target, temporary, 'dir');
    await rename(temporary, linkPath);
  }

  return {
    dirOf,
    /**
     * Brings a view in line with its grant over the current albums; safe to call any time.
     * `withheld`: albums catalogued but not shown (waiting for review), which no link may cover.
     */
    async sync(spec: ViewSpec, albums: Iterable<AlbumPlace>, withheld: readonly AlbumPlace[] = []): Promise<void> {
      const dir = dirOf(spec.name);
      const desired = desiredLinks(spec, albums, withheld);
      const variants = new Set(variantsOf(spec));
      await mkdir(dir, { recursive: true });
      for (const variant of variants) await mkdir(path.join(dir, variant), { recursive: true });
      const kept = new Set<string>();
      await prune(dir, '', desired, kept, variants);
      for (const [link, target] of desired) {
        if (kept.has(link)) continue;
        // Cache folders are made on demand; the media root is never written to.
        if (!isWithin(mediaRoot, target)) await mkdir(target, { recursive: true });
        await placeLink(path.join(dir, link), target);
      }
    },
    /** Deletes a view: only its links and the folders holding them, never what they point at. */
    async remove(name: string): Promise<void> {
      const dir = dirOf(name);
      const kept = new Set<string>();
      try {
        await prune(dir, '', new Map(), kept, new Set());
        for (const entry of await readdir(dir)) await rmdir(path.join(dir, entry)).catch(() => undefined);
        await rmdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    },
    async names(): Promise<string[]> {
      try {
        return (await readdir(viewsDir)).filter((name) => VIEW_NAME.test(name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    },
    async exists(name: string): Promise<boolean> {
      return lstat(dirOf(name)).then((stats) => stats.isDirectory(), () => false);
    },
  };
}
