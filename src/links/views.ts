import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, rename, rmdir, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { grantedRoots } from '../auth/index.js';
import type { Logger } from '../log.js';

/** What one view shows: the albums (patterns) of a key or share, and the variants it may fetch. */
export interface ViewSpec {
  readonly name: string;
  readonly albums: readonly string[];
  readonly variants: readonly string[];
}

export interface ViewsOptions {
  readonly viewsDir: string;
  readonly mediaRoot: string;
  readonly cacheDir: string;
  readonly log: Logger;
}

const VIEW_NAME = /^[a-z]+-[A-Za-z0-9_-]{1,64}$/;
/** Variants served straight from the media root; every other variant lives in the cache. */
const MEDIA_ROOT_VARIANTS: ReadonlySet<string> = new Set(['original', 'video']);

export type Views = ReturnType<typeof createViews>;

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
  const { viewsDir, mediaRoot, cacheDir, log } = options;

  function dirOf(name: string): string {
    if (!VIEW_NAME.test(name)) throw new Error(`view name: expected kind-id, got ${JSON.stringify(name)}`);
    return path.join(viewsDir, name);
  }

  function desiredLinks(spec: ViewSpec, albumPaths: Iterable<string>): Map<string, string> {
    const roots = grantedRoots(spec.albums, albumPaths);
    const links = new Map<string, string>();
    for (const variant of spec.variants) {
      for (const root of roots) {
        const target = MEDIA_ROOT_VARIANTS.has(variant) ? path.join(mediaRoot, root) : path.join(cacheDir, variant, root);
        links.set(path.join(variant, root), target);
      }
    }
    return links;
  }

  /** Removes links that should not be there (or point elsewhere); returns those that are right. */
  async function prune(dir: string, relative: string, desired: Map<string, string>, kept: Set<string>): Promise<void> {
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
        await prune(dir, entryPath, desired, kept);
        const isNeeded = [...desired.keys()].some((link) => link.startsWith(entryPath + path.sep));
        if (!isNeeded && relative !== '') await rmdir(absolute).catch(() => undefined);
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
    /** Brings a view in line with its grant over the current albums; safe to call any time. */
    async sync(spec: ViewSpec, albumPaths: Iterable<string>): Promise<void> {
      const dir = dirOf(spec.name);
      const desired = desiredLinks(spec, albumPaths);
      await mkdir(dir, { recursive: true });
      for (const variant of spec.variants) await mkdir(path.join(dir, variant), { recursive: true });
      const kept = new Set<string>();
      await prune(dir, '', desired, kept);
      for (const [link, target] of desired) {
        if (kept.has(link)) continue;
        if (!target.startsWith(mediaRoot)) await mkdir(target, { recursive: true });
        await placeLink(path.join(dir, link), target);
      }
    },
    /** Deletes a view: only its links and the folders holding them, never what they point at. */
    async remove(name: string): Promise<void> {
      const dir = dirOf(name);
      const kept = new Set<string>();
      try {
        await prune(dir, '', new Map(), kept);
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
