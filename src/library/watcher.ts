import { once } from 'node:events';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.js';
import { hasHiddenSegment, toRelative } from './relative-path.js';

export const WATCH_EVENT_KINDS = ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const;
export type WatchEventKind = (typeof WATCH_EVENT_KINDS)[number];

export interface WatchEvent {
  readonly kind: WatchEventKind;
  /** `/`-separated, relative to the watched root. */
  readonly relativePath: string;
}

export interface MediaWatcherOptions {
  /** The real path of the media root (chokidar is not asked to follow a symlinked root). */
  readonly root: string;
  readonly log: Logger;
  /** Names never watched (nor catalogued): see ignored-names.ts. Default: none but hidden ones. */
  readonly ignores?: (name: string) => boolean;
  /** Receives events in batches, one batch at a time; the next waits until this one settles. */
  readonly onEvents: (events: readonly WatchEvent[]) => Promise<void>;
  /** How long a file's size must stay put before it counts as fully written. */
  readonly stabilityThresholdMs?: number;
  readonly pollIntervalMs?: number;
  /** How long events gather before a batch is handed over. */
  readonly settleMs?: number;
  readonly maxBatchSize?: number;
  /** The root itself was removed or moved away: this watcher sees nothing more, even if it returns. */
  readonly onRootGone?: () => void;
}

type WatcherSettings = Required<Omit<MediaWatcherOptions, 'onRootGone'>>;

export const WATCHER_DEFAULTS = {
  stabilityThresholdMs: 1000,
  pollIntervalMs: 100,
  settleMs: 200,
  maxBatchSize: 500,
} as const;

export interface MediaWatcher {
  /** Stops watching and waits for the batch in hand; events not yet handed over are dropped (the next scan catches up). */
  close(): Promise<void>;
}

/**
 * The chokidar adapter. Files are reported only once their size has held still
 * (`awaitWriteFinish`), so a half-copied photo is never read; hidden paths are not even
 * watched; symlinks are reported, never followed, so a link to /etc is never crawled.
 * Events are coalesced per path into batches, which bounds the work a burst of 20,000
 * files can start at once.
 */
export async function startMediaWatcher(options: MediaWatcherOptions): Promise<MediaWatcher> {
  const settings = normalise(options);
  const batcher = createEventBatcher(settings);
  const watcher = watch(settings.root, {
    ignoreInitial: true,
    followSymlinks: false,
    // Hidden and ignored folders (a NAS's @eaDir of thumbnails, its #recycle) are not even watched.
    ignored: (file: string) => {
      const relative = toRelative(settings.root, file);
      return hasHiddenSegment(relative) || (relative !== '' && relative.split('/').some(settings.ignores));
    },
    awaitWriteFinish: { stabilityThreshold: settings.stabilityThresholdMs, pollInterval: settings.pollIntervalMs },
  });
  for (const kind of WATCH_EVENT_KINDS) {
    watcher.on(kind, (file: string) => {
      const relativePath = toRelative(settings.root, file);
      if (kind === 'unlinkDir' && relativePath === '') options.onRootGone?.();
      batcher.push({ kind, relativePath });
    });
  }
  watcher.on('error', (error: unknown) => {
    // ENOSPC here is the kernel's inotify watch limit, not a full disk.
    const hint = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'raise fs.inotify.max_user_watches' : undefined;
    settings.log.warn({ err: error, hint }, 'file watcher error; still watching');
  });
  await once(watcher, 'ready');
  settings.log.info({ root: settings.root }, 'watching the media root');
  return { close: () => closeAll(watcher, batcher) };
}

async function closeAll(watcher: FSWatcher, batcher: EventBatcher): Promise<void> {
  await watcher.close();
  await batcher.close();
}

interface EventBatcher {
  push(event: WatchEvent): void;
  close(): Promise<void>;
}

function createEventBatcher(settings: WatcherSettings): EventBatcher {
  // Latest event per path: the handler looks at the disk anyway, so older ones add nothing.
  const pending = new Map<string, WatchEvent>();
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;
  let closed = false;

  function schedule(): void {
    if (closed || draining !== undefined || timer !== undefined || pending.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      draining = drain().finally(() => {
        draining = undefined;
        schedule();
      });
    }, settings.settleMs);
  }

  async function drain(): Promise<void> {
    while (pending.size > 0 && !closed) {
      const batch: WatchEvent[] = [];
      for (const event of pending.values()) {
        if (batch.length === settings.maxBatchSize) break;
        batch.push(event);
      }
      for (const event of batch) pending.delete(event.relativePath);
      try {
        await settings.onEvents(batch);
      } catch (error) {
        settings.log.error({ err: error, events: batch.length }, 'could not apply file watcher events');
      }
    }
  }

  return {
    push(event) {
      if (closed) return;
      pending.delete(event.relativePath);
      pending.set(event.relativePath, event);
      schedule();
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      pending.clear();
      await draining;
    },
  };
}

function normalise(options: MediaWatcherOptions): WatcherSettings {
  return {
    root: options.root,
    log: options.log,
    ignores: options.ignores ?? (() => false),
    onEvents: options.onEvents,
    stabilityThresholdMs: options.stabilityThresholdMs ?? WATCHER_DEFAULTS.stabilityThresholdMs,
    pollIntervalMs: options.pollIntervalMs ?? WATCHER_DEFAULTS.pollIntervalMs,
    settleMs: options.settleMs ?? WATCHER_DEFAULTS.settleMs,
    maxBatchSize: options.maxBatchSize ?? WATCHER_DEFAULTS.maxBatchSize,
  };
}
