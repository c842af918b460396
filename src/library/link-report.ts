import type { Logger } from '../log.js';
import { openMediaRoot } from './media-root.js';
import { rootFolder } from './rules.js';
import type { SkipRecord } from './skip-reasons.js';
import { walkTree } from './walker.js';

/** Link reasons an admin should hear about: links that try to lead where a grant does not reach. */
const REPORTED = new Set(['symlink-outside', 'symlink-crosses-albums']);

/**
 * The symlinks of the media root that the catalogue refuses for where they lead (out of the
 * root, or out of the album they are in), found with the catalogue's own rules. Walks at most
 * `limit` entries; `complete` says whether it saw them all.
 */
export async function findRefusedLinks(
  mediaRoot: string,
  log: Logger,
  ignoredNames: readonly string[],
  limit = 100_000,
): Promise<{ links: SkipRecord[]; complete: boolean }> {
  const root = openMediaRoot(mediaRoot, log, ignoredNames);
  const links: SkipRecord[] = [];
  const stop = new AbortController();
  const progress = { folders: 0, entries: 0 };
  const complete = await walkTree(
    root,
    rootFolder(root),
    {
      entry(found) {
        if (found.kind === 'skip' && REPORTED.has(found.record.reason)) links.push(found.record);
        if (progress.entries >= limit) stop.abort();
      },
      folderFailed: () => undefined,
    },
    progress,
    stop.signal,
  );
  return { links, complete };
}
