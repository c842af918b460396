import type { Logger } from '../log.js';
import type { CatalogueTable } from './catalogue-table.js';
import type { CatalogueWriter } from './catalogue-writer.js';
import { createCommitBuffer, type CommitBuffer } from './commit-buffer.js';
import { readHeaders, type DecodeChecks } from './item-reader.js';
import type { MediaRoot } from './media-root.js';
import type { ImageReader } from './metadata.js';
import { hasHiddenSegment } from './relative-path.js';
import { classifyPath, type Candidate, type Classified, type ParentFolder } from './rules.js';
import { CONTENT_REASONS, isSameSkip } from './skip-reasons.js';

/** Commit small batches: a dropped folder should appear photo by photo, not all at the end. */
const WATCH_COMMIT_SIZE = 50;
const WATCH_COMMIT_DELAY_MS = 250;

export interface ReconcilerDeps {
  readonly root: MediaRoot;
  readonly table: CatalogueTable;
  readonly writer: CatalogueWriter;
  readonly log: Logger;
  readonly readImage: ImageReader;
  readonly checks: DecodeChecks;
  readonly readConcurrency: number;
  readonly signal: AbortSignal;
  /** Scans a folder reached through a symlink: the watcher does not look inside those. */
  readonly scanFolder: (folder: ParentFolder) => Promise<unknown>;
}

/**
 * Brings the catalogue in line with the disk for a batch of paths the watcher reported.
 * Each path is looked at as it is now, whatever the event said, so a burst of add, unlink
 * and add again for one file, or events arriving out of order, end in the right state.
 */
export async function reconcilePaths(deps: ReconcilerDeps, relativePaths: readonly string[]): Promise<void> {
  const buffer = createCommitBuffer(deps.writer, WATCH_COMMIT_SIZE, WATCH_COMMIT_DELAY_MS);
  const candidates: Candidate[] = [];
  const linkedFolders: ParentFolder[] = [];
  for (const relativePath of relativePaths) {
    // Hidden and ignored folders are never looked into (the watcher does not watch them either).
    if (relativePath === '' || hasHiddenSegment(relativePath) || relativePath.split('/').some(deps.root.ignores)) continue;
    const found = inspect(deps, relativePath);
    if (found === undefined) continue;
    planChange(deps.table, found, buffer, candidates);
    if (found.kind === 'album' && found.linked) linkedFolders.push(found.folder);
  }
  buffer.flush();
  await readHeaders(candidates, deps, buffer);
  buffer.flush();
  for (const folder of linkedFolders) await deps.scanFolder(folder);
}

function inspect(deps: ReconcilerDeps, relativePath: string): Classified | undefined {
  try {
    return classifyPath(deps.root, relativePath);
  } catch (error) {
    // EACCES and the like: leave the catalogue as it is rather than guess.
    deps.log.warn({ err: error, path: relativePath }, 'cannot look at a changed path; leaving the catalogue as it is');
    return undefined;
  }
}

function planChange(table: CatalogueTable, found: Classified, buffer: CommitBuffer, candidates: Candidate[]): void {
  switch (found.kind) {
    case 'gone':
      return buffer.push({ op: 'forget', relativePath: found.relativePath });
    case 'album':
      return buffer.push({ op: 'album', albumPath: found.folder.relativePath });
    case 'skip':
      if (isSameSkip(table.getSkip(found.record.path), found.record)) return;
      return buffer.push({ op: 'skip', record: found.record, detail: found.detail });
    case 'media':
      if (needsReading(table, found.candidate)) candidates.push(found.candidate);
      return;
  }
}

function needsReading(table: CatalogueTable, candidate: Candidate): boolean {
  const same = (known: { size: number; mtimeMs: number } | undefined): boolean =>
    known !== undefined && known.size === candidate.size && known.mtimeMs === candidate.mtimeMs;
  const item = table.getItem(candidate.relativePath);
  if (item !== undefined) return !(same(item) && item.type === candidate.type);
  const skip = table.getSkip(candidate.relativePath);
  return !(skip !== undefined && CONTENT_REASONS.has(skip.reason) && same(skip));
}
