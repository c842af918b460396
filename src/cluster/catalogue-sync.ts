import { joinRelative, type AlbumRow, type CatalogueRows, type LibraryService, type MediaItem } from '../library/index.js';
import type { Logger } from '../log.js';
import type { SharedCatalogue } from './shared-catalogue.js';

/*
 * Several nodes, one catalogue. The leader (the node that watches the media root) sends every row
 * it writes to PostgreSQL, a moment later and in batches; every other node copies the rows a
 * 'catalogue' event names into its own SQLite catalogue, which it serves from as one node does.
 * A node that (re)connects compares the two catalogues whole: the leader sends what differs
 * (once its own scan is done), the others copy it.
 */

/** A written row waits this long for others to go with it in one transaction. */
const SEND_AFTER_MS = 100;
/** A send that failed (the database away) is tried again after this. */
const RETRY_AFTER_MS = 1_000;
/** Paths per transaction, sent or copied. */
const BATCH = 500;

/** One catalogue as the whole-catalogue comparison reads it. */
export interface CatalogueSide {
  albumRows(): AlbumRow[] | Promise<AlbumRow[]>;
  itemsIn(albumPath: string): MediaItem[] | Promise<MediaItem[]>;
  rows(paths: readonly string[]): CatalogueRows | Promise<CatalogueRows>;
}

/**
 * Makes `target` equal `source`, album by album, writing the paths that differ in batches;
 * returns how many paths it wrote.
 */
export async function copyCatalogue(source: CatalogueSide, target: CatalogueSide, write: (paths: string[], rows: CatalogueRows) => Promise<void> | void): Promise<number> {
  const [from, to] = await Promise.all([source.albumRows(), target.albumRows()]);
  const targetAlbums = new Map(to.map((album) => [album.path, album]));
  const sourceAlbums = new Map(from.map((album) => [album.path, album]));
  // '' too: an item may sit at the root without an album row.
  const albumPaths = [...new Set(['', ...sourceAlbums.keys(), ...targetAlbums.keys()])].sort();
  let dirty: string[] = [];
  let written = 0;
  const flush = async (): Promise<void> => {
    if (dirty.length === 0) return;
    const paths = dirty;
    dirty = [];
    await write(paths, await source.rows(paths));
    written += paths.length;
  };
  for (const albumPath of albumPaths) {
    if (albumPath !== '' && !sameRow(sourceAlbums.get(albumPath), targetAlbums.get(albumPath))) dirty.push(albumPath);
    const [sourceItems, targetItems] = await Promise.all([source.itemsIn(albumPath), target.itemsIn(albumPath)]);
    const targetByName = new Map(targetItems.map((item) => [item.name, item]));
    for (const item of sourceItems) {
      if (!sameRow(item, targetByName.get(item.name))) dirty.push(joinRelative(albumPath, item.name));
      targetByName.delete(item.name);
    }
    for (const name of targetByName.keys()) dirty.push(joinRelative(albumPath, name));
    if (dirty.length >= BATCH) await flush();
  }
  await flush();
  return written;
}

/** Rows are equal when every field is: both engines' rows go through the same mapper (toMediaItem). */
function sameRow(a: unknown, b: unknown): boolean {
  return a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

export interface CatalogueSync {
  /** A 'catalogue' event: a node that does not lead copies these paths from the database. */
  changed(paths: readonly string[]): Promise<void>;
  /** Compares the catalogues whole: the leader sends, once `scanned`; any other node copies. */
  resync(): Promise<void>;
  /** Sends what is waiting, and stops listening. */
  stop(): Promise<void>;
}

export function startCatalogueSync(options: {
  readonly library: Pick<LibraryService, 'replica' | 'onRowWritten'>;
  readonly shared: SharedCatalogue;
  readonly isLeader: () => boolean;
  /** Settles when this node, leading, has scanned the media root: only then is its catalogue whole. */
  readonly scanned: () => Promise<void>;
  readonly log: Logger;
}): CatalogueSync {
  const { library, shared, log } = options;
  const replica = library.replica;
  const local: CatalogueSide = replica;
  let queue: Promise<void> = Promise.resolve();
  const serially = (work: () => Promise<void>): Promise<void> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };
  const waiting = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function schedule(afterMs: number): void {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void serially(send);
    }, afterMs);
  }

  async function send(): Promise<void> {
    // A node that no longer leads writes nothing: the new leader's catalogue is the one that counts.
    if (!options.isLeader()) return waiting.clear();
    const paths = [...waiting].slice(0, BATCH);
    for (const path of paths) waiting.delete(path);
    try {
      await shared.write(paths, replica.rows(paths));
    } catch (error) {
      for (const path of paths) waiting.add(path);
      log.warn({ err: error, waiting: waiting.size }, 'could not send catalogue changes to the database; retrying');
      return schedule(RETRY_AFTER_MS);
    }
    if (waiting.size > 0) schedule(0);
  }

  const unsubscribe = library.onRowWritten((path) => {
    if (!options.isLeader()) return;
    waiting.add(path);
    schedule(waiting.size >= BATCH ? 0 : SEND_AFTER_MS);
  });

  return {
    changed(paths) {
      return serially(async () => {
        if (options.isLeader()) return;
        replica.apply(paths, await shared.rows(paths));
      });
    },
    async resync() {
      if (options.isLeader()) await options.scanned();
      return serially(async () => {
        const leads = options.isLeader();
        const written = leads
          ? await copyCatalogue(local, shared, (paths, rows) => shared.write(paths, rows))
          : await copyCatalogue(shared, local, (paths, rows) => replica.apply(paths, rows));
        if (written > 0) log.info({ paths: written }, leads ? 'sent the catalogue to the database' : 'copied the catalogue from the database');
      });
    },
    async stop() {
      stopped = true;
      unsubscribe();
      clearTimeout(timer);
      timer = undefined;
      if (waiting.size > 0) await serially(send).catch(() => undefined);
      await queue;
    },
  };
}
