import type { Logger } from '../log.js';
import type { MediaRoot } from './media-root.js';
import { classifyPath, type ParentFolder } from './rules.js';
import type { ScanOptions, ScanReport } from './scanner.js';

export interface FolderRescanOptions {
  readonly root: MediaRoot;
  readonly log: Logger;
  readonly scan: (folder: ParentFolder, options: ScanOptions) => Promise<ScanReport>;
  /** Files younger than this are left for the next round (the watcher's write-settle time). */
  readonly settledForMs: number;
  /** Quiet time after the last change before the rescan starts. */
  readonly quietMs?: number;
  /** A folder waits at most this long, however busy the drop. */
  readonly maxWaitMs?: number;
}

export interface FolderRescans {
  /** Something changed in this folder; it will be scanned once the burst of changes is over. */
  folderChanged(relativePath: string): void;
  close(): Promise<void>;
}

const QUIET_MS = 2_000;
const MAX_WAIT_MS = 15_000;

/**
 * The safety net under the watcher. inotify can only watch a folder once it exists, so files
 * created in a new folder before its watch is in place (a 20,000-photo drop, or rsync renaming
 * a file in while the folder is being listed) never raise an event; and chokidar drops the
 * changes that arrive while it re-lists a folder when that listing takes over a second (its
 * readdir throttle expires first), which a busy box hits during a big drop. So every folder
 * the watcher reported a change in is scanned again after the burst; the scan is incremental,
 * so what the watcher already catalogued costs a stat. Files still changing are deferred to
 * another round.
 */
export function createFolderRescans(options: FolderRescanOptions): FolderRescans {
  const quietMs = options.quietMs ?? QUIET_MS;
  const maxWaitMs = options.maxWaitMs ?? MAX_WAIT_MS;
  const waiting = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let firstWaitingSince: number | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  function schedule(): void {
    if (closed || waiting.size === 0 || running !== undefined) return;
    firstWaitingSince ??= Date.now();
    clearTimeout(timer);
    const delay = Math.max(0, Math.min(quietMs, firstWaitingSince + maxWaitMs - Date.now()));
    timer = setTimeout(() => {
      timer = undefined;
      firstWaitingSince = undefined;
      running = runRound().finally(() => {
        running = undefined;
        schedule();
      });
    }, delay);
  }

  async function runRound(): Promise<void> {
    const folders = topmost([...waiting]);
    waiting.clear();
    for (const relativePath of folders) {
      if (closed) return;
      try {
        const found = classifyPath(options.root, relativePath);
        if (found.kind !== 'album') continue;
        const report = await options.scan(found.folder, { settledForMs: options.settledForMs });
        if (report.added > 0) options.log.info({ folder: relativePath, added: report.added }, 'rescan after changes found files the watcher missed');
        if (report.deferred > 0) waiting.add(relativePath);
      } catch (error) {
        options.log.warn({ err: error, folder: relativePath }, 'could not rescan a changed folder; the next full scan will');
      }
    }
  }

  return {
    folderChanged(relativePath) {
      if (closed) return;
      waiting.add(relativePath);
      schedule();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      waiting.clear();
      await running;
    },
  };
}

/** Drops every folder that lies inside another one in the list: scanning the outer one covers it. */
export function topmost(folders: readonly string[]): string[] {
  const all = new Set(folders);
  if (all.has('')) return [''];
  return [...all].filter((folder) => {
    const segments = folder.split('/');
    return !segments.slice(0, -1).some((_, index) => all.has(segments.slice(0, index + 1).join('/')));
  });
}
