import path from 'node:path';
import type { Logger } from '../log.js';
import { openVerified } from '../paths.js';
import { yieldToEventLoop } from '../time-slicer.js';
import type { CatalogueTable, PlaceholderCursor, PlaceholderDue } from './catalogue-table.js';
import type { MediaRoot } from './media-root.js';
import { describePhoto, type PhotoDescription } from './placeholder-image.js';
import { joinRelative } from './relative-path.js';

/*
 * The background pass that gives photos their placeholders (placeholder-image.ts). It is off the
 * path that makes a dropped photo visible: a photo is listed from its header at once, and this
 * pass decodes it later, one photo at a time, only while the catalogue has nothing else in hand
 * (scans, watcher batches and decode checks go first), yielding to the event loop between photos.
 * Its work list is the catalogue itself (photos whose placeholder is NULL, newest added first),
 * so photos catalogued before placeholders existed, or whose file changed, are found the same
 * way, and nothing is lost across a restart. An album someone is looking at goes first (the
 * most recently looked at first), without waiting for the catalogue's other work, so its grid has
 * its placeholders while the rest wait. Photos catalogued before photo info was kept have
 * their EXIF read here too, from the same bytes.
 */

/** Photos read from the catalogue at a time; a new photo waits at most this many behind a backfill. */
const PAGE_SIZE = 20;
/** Albums remembered as looked at; an older one falls back to the pass's usual order. */
const LOOKED_AT_LIMIT = 4;

export interface PlaceholderPass {
  /** Something was catalogued: start, or start again from the newest photos. */
  wake(): void;
  /** Someone opened this album: its photos are made next. */
  lookingAt(albumPath: string): void;
  /** Resolves when the pass in hand has stopped (after the signal aborted, once the photo being made is done). */
  stopped(): Promise<void>;
}

export interface PlaceholderPassDeps {
  readonly table: CatalogueTable;
  readonly root: MediaRoot;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Resolves once the catalogue's own work in hand is done: the pass runs only behind it. */
  readonly quiet: () => Promise<void>;
  /** Told after a row was given its placeholder, so copies of the item held elsewhere can go. */
  readonly stored: (due: PlaceholderDue) => void;
  /** Replaces the decoder; for tests. */
  readonly describe?: (bytes: Buffer, fileName: string) => Promise<PhotoDescription>;
  /** A small derivative of the whole photo, when the derivative pipeline makes one (library.ts). */
  readonly placeholderSource?: PlaceholderSource;
}

/**
 * A small derivative of the whole photo as the derivative pipeline makes it (the same job
 * pre-generation or a visitor asks for, joined when already on its way), with its file name;
 * undefined when it makes none for this photo (an album waiting for review, a changed file).
 */
export type PlaceholderSource = (photo: { readonly albumPath: string; readonly name: string; readonly size: number; readonly mtimeMs: number }) => Promise<{ bytes: Buffer; name: string } | undefined>;

export function createPlaceholderPass(deps: PlaceholderPassDeps): PlaceholderPass {
  const describe = deps.describe ?? describePhoto;
  let running: Promise<void> | undefined;
  let restart = false;
  /** Woken once: the catalogue is live (a read-only one, such as a CLI command's, never is). */
  let live = false;
  /** Albums looked at, the latest last, each with the name it has been done up to. */
  const lookedAt: { albumPath: string; afterName: string }[] = [];
  /** Ends the pass's wait for a quiet catalogue when an album is looked at. */
  let lookedAtNow: (() => void) | undefined;

  /** The next photos to make: the latest album looked at first, else the walk's own order. */
  function nextPage(cursor: PlaceholderCursor | undefined): { page: PlaceholderDue[]; looked?: (typeof lookedAt)[number] } {
    for (let looked = lookedAt.at(-1); looked !== undefined; looked = lookedAt.at(-1)) {
      const page = deps.table.placeholdersDueIn(looked.albumPath, looked.afterName, PAGE_SIZE);
      if (page.length > 0) return { page, looked };
      lookedAt.pop();
    }
    return { page: deps.table.placeholdersDue(cursor, PAGE_SIZE) };
  }

  /** One walk down the photos still to do; one that could not be read now stays to do, for the next walk. */
  async function sweep(): Promise<void> {
    let cursor: PlaceholderCursor | undefined;
    for (;;) {
      if (restart) {
        restart = false;
        cursor = undefined;
      }
      const { page, looked } = nextPage(cursor);
      if (page.length === 0) return;
      for (const due of page) {
        // An album someone is looking at does not wait for the catalogue's other work; the rest does.
        if (looked === undefined) await Promise.race([deps.quiet(), new Promise<void>((resolve) => (lookedAtNow = resolve))]);
        if (deps.signal.aborted) return;
        // A restart, or another album looked at since: read the next page afresh.
        if (restart || lookedAt.at(-1) !== looked) break;
        await placeOne(due);
        if (looked === undefined) cursor = [due.addedAt, due.albumPath, due.name];
        else looked.afterName = due.name;
        await yieldToEventLoop();
      }
    }
  }

  /**
   * From a derivative when there is one to make: a ThumbHash needs 100 pixels a side, and the
   * derivative is made anyway, so a dropped album's photos are decoded once for both, not twice
   * (measured: the placeholder's own decode of a 12 MP JPEG costs as much as its thumbnail, and
   * ran beside the grid's thumbnails). Its EXIF is gone, so a photo whose info is to be read again
   * goes to the original; so does anything that fails here, to fail (or not) as it always has.
   */
  async function fromDerivative(due: PlaceholderDue): Promise<PhotoDescription | undefined> {
    if (deps.placeholderSource === undefined || due.needsInfo) return undefined;
    try {
      // The derivative may wait behind a long queue: a shutdown does not wait for it.
      const derivative = await unlessAborted(deps.placeholderSource(due), deps.signal);
      return derivative === undefined ? undefined : await describe(derivative.bytes, derivative.name);
    } catch (error) {
      deps.log.debug({ err: error, path: joinRelative(due.albumPath, due.name) }, 'placeholder: no derivative to take it from; the original is read');
      return undefined;
    }
  }

  async function placeOne(due: PlaceholderDue): Promise<void> {
    const relativePath = joinRelative(due.albumPath, due.name);
    const made = await fromDerivative(due);
    if (deps.signal.aborted) return;
    if (made !== undefined) {
      if (deps.table.putPlaceholder(due, made.placeholder, undefined)) deps.stored(due);
      return;
    }
    const bytes = await readVersion(deps.root.absolute(relativePath), due).catch((error: unknown) => {
      // Gone, swapped for a link, out of file handles: the watcher or the next walk sees to it.
      deps.log.debug({ err: error, path: relativePath }, 'placeholder: photo not read now');
      return undefined;
    });
    if (bytes === undefined) return;
    const description = await describe(bytes, due.name).catch((error: unknown) => {
      // The decode check logs a broken photo once, and drops it; this stays quiet about it.
      deps.log.debug({ err: error, path: relativePath }, 'placeholder: photo does not decode; it gets none');
      return undefined;
    });
    if (deps.signal.aborted) return;
    // '' marks "tried, none": the photo is not tried again until its file changes.
    const info = due.needsInfo ? description?.info : undefined;
    if (deps.table.putPlaceholder(due, description?.placeholder ?? '', info)) deps.stored(due);
  }

  function run(): Promise<void> {
    const walks = async (): Promise<void> => {
      do {
        restart = false;
        await sweep();
      } while (restart && !deps.signal.aborted);
    };
    return walks()
      .catch((error: unknown) => deps.log.warn({ err: error }, 'placeholder pass stopped; it starts again with the next change'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    wake() {
      if (deps.signal.aborted) return;
      live = true;
      restart = true;
      running ??= run();
    },
    lookingAt(albumPath) {
      if (deps.signal.aborted || lookedAt.at(-1)?.albumPath === albumPath) return;
      const earlier = lookedAt.findIndex((looked) => looked.albumPath === albumPath);
      if (earlier >= 0) lookedAt.splice(earlier, 1);
      lookedAt.push({ albumPath, afterName: '' });
      if (lookedAt.length > LOOKED_AT_LIMIT) lookedAt.shift();
      lookedAtNow?.();
      if (live) running ??= run();
    },
    stopped: async () => {
      await running;
    },
  };
}

/** What `work` gives, or undefined as soon as `signal` aborts (a later failure of `work` is then ignored). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The photo's bytes, if the file still is the version catalogued (else its new version is on its way through the watcher). */
async function readVersion(file: string, due: PlaceholderDue): Promise<Buffer | undefined> {
  const folder = path.dirname(file);
  const { handle, stats } = await openVerified(folder, [path.basename(file)], folder);
  try {
    if (stats.size !== due.size || Math.trunc(stats.mtimeMs) !== due.mtimeMs) return undefined;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
