import type { Logger } from '../log.js';
import type { Db } from '../store/index.js';
import { createAlbumQueries, type AlbumQueries } from './album-queries.js';
import type { AlbumLocation, Library } from './types.js';
import { createCatalogueTable, itemPath } from './catalogue-table.js';
import { createCatalogueReplica, pathsOf, type CatalogueReplica } from './catalogue-replica.js';
import { createPublishGate, type PublishGate } from './publish-gate.js';
import { createCatalogueWriter, realRelativePath } from './catalogue-writer.js';
import { createLookupCache } from './lookup-cache.js';
import { createChangeEmitter, type ChangeListener } from './events.js';
import { createFolderRescans } from './folder-rescans.js';
import { openMediaRoot } from './media-root.js';
import { createCommitBuffer } from './commit-buffer.js';
import { createDecodeChecks, type ImageChecker } from './item-reader.js';
import { checkImageDecodes, readImageFacts, type ImageReader } from './metadata.js';
import { createPlaceholderPass, type PlaceholderSource } from './placeholder-pass.js';
import { reconcilePaths, type ReconcilerDeps } from './reconciler.js';
import { openVerified, PathRejectedError, type VerifiedFile } from '../paths.js';
import { splitRelative, toAbsolute } from './relative-path.js';
import { rootFolder, type ParentFolder } from './rules.js';
import { scanTree, type ScanReport } from './scanner.js';
import { watchRootPresence, type RootPresence } from './root-presence.js';
import { startMediaWatcher, WATCHER_DEFAULTS, type MediaWatcher, type MediaWatcherOptions } from './watcher.js';

export interface LibraryOptions {
  readonly db: Db;
  /** The admin's folder of originals; only ever read. */
  readonly mediaRoot: string;
  readonly log: Logger;
  /** Start watching the media root at once (same as calling watch()). */
  readonly watch?: boolean;
  /** How many images are read at once, by scans and by the watcher each (default 4). */
  readonly readConcurrency?: number;
  /** Replace the sharp header reader and decode check; for tests that count or fake reads. */
  readonly readImage?: ImageReader;
  readonly checkImage?: ImageChecker;
  /** Names that are never albums or photos; default DEFAULT_IGNORED_NAMES. */
  readonly ignoredNames?: readonly string[];
  /** `review`: albums that appear wait for `keepsake publish` (publish-gate.ts); default `open`. */
  readonly publish?: 'open' | 'review';
  /**
   * A small derivative of the whole photo, made (or joined, when already on its way) by the
   * derivative pipeline: placeholders are then taken from it rather than from a second decode of
   * the original. Without it, or when it gives none, placeholders come from the original.
   */
  readonly placeholderSource?: PlaceholderSource;
  /** Tuning for the watcher: write-settle threshold, polling, batching. */
  readonly watcher?: Pick<MediaWatcherOptions, 'stabilityThresholdMs' | 'pollIntervalMs' | 'settleMs' | 'maxBatchSize'>;
}

export interface LibraryService extends AlbumQueries, Pick<Library, 'openOriginal' | 'readOriginal'> {
  /** The albums waiting for review, and releasing them. */
  readonly publishing: PublishGate;
  /** The catalogue with the albums waiting for review too: only for the admin's preview session. */
  readonly preview: AlbumQueries & Pick<Library, 'openOriginal' | 'readOriginal'>;
  /**
   * Full scan of the media root. Only one runs at a time: a call while one runs gets that
   * one's report. Serving goes on meanwhile; a progress line is logged every 2 seconds.
   */
  scan(): Promise<ScanReport>;
  /** Starts the watcher (once) and resolves when it is ready. Start it before scan() to miss nothing. */
  watch(): Promise<void>;
  /** Stops the watcher (several nodes: this one no longer leads); watch() starts it again. */
  unwatch(): Promise<void>;
  /** Someone is looking at this album: its placeholders are made before the rest. */
  lookingAt(albumPath: string): void;
  /** Listens to catalogue changes (after they are committed); returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
  /** Hears the path of every row written (a change, or a placeholder stored): what other nodes must copy. */
  onRowWritten(listener: (relativePath: string) => void): () => void;
  /** The catalogue as rows, to copy to or from other nodes. */
  readonly replica: CatalogueReplica;
  /** Stops the watcher and any scan, and waits for work in hand. Reads keep working. */
  /** Resolves once the scans, watcher batches and decode checks running now (and any they start) are done. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_READ_CONCURRENCY = 4;
/** A photo found broken leaves the catalogue within a quarter second of its check. */
const CHECK_COMMIT_SIZE = 50;
const CHECK_COMMIT_DELAY_MS = 250;

export function createLibrary(options: LibraryOptions): LibraryService {
  // The caller names the module (`log.child({ module: 'library' })`), as for every service.
  const log = options.log;
  const root = openMediaRoot(options.mediaRoot, log, options.ignoredNames, options.publish === 'review');
  const table = createCatalogueTable(options.db, { newAlbumsPublished: options.publish !== 'review' });
  const emitter = createChangeEmitter(log);
  const stopping = new AbortController();
  const work = createWorkTracker();
  const writer = createCatalogueWriter({ table, root, log, emit: emitter.emit });
  const readConcurrency = options.readConcurrency ?? DEFAULT_READ_CONCURRENCY;
  const checks = createDecodeChecks({
    checkImage: options.checkImage ?? ((candidate) => checkImageDecodes(candidate.file)),
    buffer: createCommitBuffer(writer, CHECK_COMMIT_SIZE, CHECK_COMMIT_DELAY_MS),
    log,
    concurrency: readConcurrency,
    signal: stopping.signal,
    track: (checking) => work.track(checking),
  });
  const deps: ReconcilerDeps = {
    root,
    table,
    writer,
    log,
    readImage: options.readImage ?? readImageFacts,
    checks,
    readConcurrency,
    signal: stopping.signal,
    scanFolder: (folder: ParentFolder) => work.track(scanTree(deps, folder)),
  };
  const rescans = createFolderRescans({
    root,
    log,
    scan: (folder, scanOptions) => work.track(scanTree(deps, folder, scanOptions)),
    // A margin over the watcher's own write-settle time.
    settledForMs: (options.watcher?.stabilityThresholdMs ?? WATCHER_DEFAULTS.stabilityThresholdMs) + 500,
  });
  let fullScan: Promise<ScanReport> | undefined;
  let watcher: Promise<MediaWatcher> | undefined;
  let presence: Promise<RootPresence> | undefined;
  function startWatcher(): Promise<MediaWatcher> {
    return startMediaWatcher({
      ...options.watcher,
      root: root.realPath,
      ignores: root.ignores,
      log,
      onEvents: (events) => {
        for (const event of events) rescans.folderChanged(splitRelative(event.relativePath).albumPath);
        return work.track(reconcilePaths(deps, events.map((event) => event.relativePath)));
      },
      onRootGone: () => void presence?.then((looking) => looking.lost()),
    });
  }
  async function stopWatcher(): Promise<void> {
    const running = watcher;
    watcher = undefined;
    const started = await running?.catch(() => undefined);
    await started?.close();
  }
  fillRealPaths(table, root);
  const queries = createAlbumQueries(options.db);
  const lookups = createLookupCache(queries, emitter.subscribe);
  const rowListeners = new Set<(relativePath: string) => void>();
  const rowWritten = (relativePath: string): void => {
    for (const listener of rowListeners) listener(relativePath);
  };
  emitter.subscribe((change) => {
    for (const path of pathsOf([change])) rowWritten(path);
  });
  const placeholders = createPlaceholderPass({
    table,
    root,
    log,
    signal: stopping.signal,
    quiet: () => work.settled(),
    ...(options.placeholderSource === undefined ? {} : { placeholderSource: options.placeholderSource }),
    stored: (due) => {
      lookups.forget(due.albumPath, due.name);
      rowWritten(itemPath(due));
    },
  });
  const replica = createCatalogueReplica({
    table,
    emit(changes) {
      copying = true;
      try {
        emitter.emit(changes);
      } finally {
        copying = false;
      }
    },
    forget: (albumPath, name) => {
      lookups.forget(albumPath, name);
      rowWritten(itemPath({ albumPath, name }));
    },
  });
  /** True while rows copied from another node are told: that node makes their placeholders, not this one. */
  let copying = false;
  emitter.subscribe((change) => {
    if (!copying && (change.kind === 'item-added' || change.kind === 'item-changed')) placeholders.wake();
  });

  /** Opening and reading originals, of the albums `albumOf` knows (published ones, or with the preview every one). */
  function originalsOf(albumOf: (albumPath: string) => AlbumLocation | undefined): Pick<Library, 'openOriginal' | 'readOriginal'> {
    async function openOriginal(item: { albumPath: string; name: string }): Promise<VerifiedFile> {
      const album = item.albumPath === '' ? undefined : albumOf(item.albumPath);
      if (album === undefined) throw new PathRejectedError('not in a catalogued album');
      return openVerified(root.realPath, [...item.albumPath.split('/'), item.name], toAbsolute(root.realPath, album.realPath));
    }
    return {
      openOriginal,
      async readOriginal(item) {
        const { handle } = await openOriginal(item);
        try {
          return await handle.readFile();
        } finally {
          await handle.close();
        }
      },
    };
  }
  const previewQueries = createAlbumQueries(options.db, { includePending: true });

  const service: LibraryService = {
    ...queries,
    publishing: createPublishGate(options.db),
    preview: { ...previewQueries, ...originalsOf(previewQueries.album) },
    album: lookups.album,
    item: lookups.item,
    ...originalsOf(lookups.album),
    scan() {
      fullScan ??= work.track(scanTree(deps, rootFolder(root))).finally(() => {
        fullScan = undefined;
      });
      return fullScan;
    },
    async watch() {
      if (stopping.signal.aborted) return;
      watcher ??= startWatcher();
      await watcher;
      presence ??= watchRootPresence({
        realPath: root.realPath,
        log,
        // The folder at the root is not the one watched: watch it, then catalogue what it holds.
        rearm: async () => {
          await stopWatcher();
          if (stopping.signal.aborted || presence === undefined) return;
          watcher = startWatcher();
          await watcher;
          await service.scan();
        },
      });
      await presence;
      // A live catalogue fills in the placeholders it lacks (one from before they existed included).
      placeholders.wake();
    },
    async unwatch() {
      const looking = presence;
      presence = undefined;
      (await looking)?.stop();
      await stopWatcher();
    },
    lookingAt: (albumPath) => placeholders.lookingAt(albumPath),
    onChange: emitter.subscribe,
    onRowWritten(listener) {
      rowListeners.add(listener);
      return () => void rowListeners.delete(listener);
    },
    replica,
    idle: () => work.settled(),
    async close() {
      stopping.abort();
      (await presence)?.stop();
      const started = await watcher?.catch(() => undefined);
      await started?.close();
      await rescans.close();
      await work.settled();
      await placeholders.stopped();
    },
  };
  if (options.watch === true) {
    service.watch().catch((error: unknown) => log.error({ err: error }, 'could not start watching the media root'));
  }
  return service;
}

/** Albums catalogued before real paths were kept get theirs now, before anything is served. */
function fillRealPaths(table: ReturnType<typeof createCatalogueTable>, root: ReturnType<typeof openMediaRoot>): void {
  const unknown = table.albumsWithoutRealPath();
  if (unknown.length === 0) return;
  table.transaction(() => {
    for (const albumPath of unknown) {
      const realPath = realRelativePath(root, albumPath);
      if (realPath !== undefined) table.putAlbum(albumPath, realPath);
    }
  });
}

/** Remembers running scans and watcher batches, so close() can wait for them. */
function createWorkTracker(): { track<T>(work: Promise<T>): Promise<T>; settled(): Promise<void> } {
  const running = new Set<Promise<unknown>>();
  return {
    track(work) {
      running.add(work);
      const forget = (): void => {
        running.delete(work);
      };
      work.then(forget, forget);
      return work;
    },
    async settled() {
      // Work may start more work (a scan hands its photos to the decode checks): wait for that too.
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
