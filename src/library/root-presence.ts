import { stat } from 'node:fs/promises';
import type { Logger } from '../log.js';

/*
 * The watcher watches one folder, the one that was there when it started. A media root moved
 * aside and back, made anew by a restore, or a share mounted again over its mount point is
 * another folder (or the same one, no longer watched: chokidar stops at its root's removal), and
 * albums dropped into it would never appear. This looks at the root every few seconds and, when
 * the folder there is not the one watched, has the watcher started again on it and a scan made.
 */

/** How often the root is looked at: one stat, so often enough that a returning share is seen soon. */
export const ROOT_CHECK_MS = 3_000;

export interface RootPresenceOptions {
  readonly realPath: string;
  readonly log: Logger;
  /** Starts watching the folder now at the root and scans it; called once at a time. */
  readonly rearm: () => Promise<void>;
  readonly intervalMs?: number;
}

export interface RootPresence {
  /** The watcher saw the root itself go (chokidar's unlinkDir of it): rearm once it is back. */
  lost(): void;
  stop(): void;
}

type Identity = { readonly dev: number; readonly ino: number } | undefined;

async function identityOf(realPath: string): Promise<Identity> {
  try {
    const found = await stat(realPath);
    return found.isDirectory() ? { dev: found.dev, ino: found.ino } : undefined;
  } catch {
    return undefined;
  }
}

/** Starts looking; `watched` is the folder the running watcher was started on. */
export async function watchRootPresence(options: RootPresenceOptions): Promise<RootPresence> {
  let watched = await identityOf(options.realPath);
  let gone = watched === undefined;
  let checking = false;
  async function check(): Promise<void> {
    const now = await identityOf(options.realPath);
    if (now === undefined) {
      if (!gone) options.log.warn({ mediaRoot: options.realPath }, 'the media root is gone; nothing is removed from the catalogue, and it is looked for every few seconds');
      gone = true;
      return;
    }
    if (!gone && watched !== undefined && now.dev === watched.dev && now.ino === watched.ino) return;
    options.log.info({ mediaRoot: options.realPath }, 'the media root is back (or another folder is in its place): watching it again and scanning it');
    // Taken as watched only once the watcher runs on it: a failed start is tried again next time.
    await options.rearm();
    watched = now;
    gone = false;
  }
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    check()
      .catch((error: unknown) => options.log.error({ err: error }, 'could not watch the media root again'))
      .finally(() => (checking = false));
  }, options.intervalMs ?? ROOT_CHECK_MS);
  timer.unref();
  return {
    lost: () => void (gone = true),
    stop: () => clearInterval(timer),
  };
}
