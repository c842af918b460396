import type { Logger } from '../log.js';
import type { CatalogueTable, FileStamp } from './catalogue-table.js';
import type { Change, CatalogueWriter } from './catalogue-writer.js';
import { createCommitBuffer, type CommitBuffer } from './commit-buffer.js';
import { createTimeSlicer, yieldToEventLoop } from '../time-slicer.js';
import { readHeaders, type DecodeChecks } from './item-reader.js';
import type { MediaRoot } from './media-root.js';
import type { ImageReader } from './metadata.js';
import type { Candidate, Classified, ParentFolder } from './rules.js';
import { CONTENT_REASONS, isSameSkip, type SkipRecord } from './skip-reasons.js';
import { canProbeVideos } from './video-facts.js';
import { walkTree, type WalkVisitor } from './walker.js';

const PROGRESS_EVERY_MS = 2000;
/** Rows per page when loading what the catalogue knows: a few milliseconds of work each. */
const LOAD_PAGE_SIZE = 2000;

export interface ScanReport {
  /** Albums found (the scanned folder itself not included). */
  readonly albums: number;
  /** Items in the catalogue for the scanned tree once the scan is done. */
  readonly items: number;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  /** Files and folders found but not catalogued, whether or not they were logged this time. */
  readonly skipped: number;
  readonly ms: number;
  /** Media files left for a later scan because they were still changing (see ScanOptions). */
  readonly deferred: number;
  /** False when the scan was stopped (by close()) before the end; nothing was removed then. */
  readonly complete: boolean;
}

export interface ScannerDeps {
  readonly root: MediaRoot;
  readonly table: CatalogueTable;
  readonly writer: CatalogueWriter;
  readonly log: Logger;
  readonly readImage: ImageReader;
  readonly checks: DecodeChecks;
  readonly readConcurrency: number;
  readonly signal: AbortSignal;
}

export interface ScanOptions {
  /**
   * Leave alone media files whose inode changed less than this long ago: they may still be
   * being copied. They are counted in `deferred` and neither read nor forgotten.
   */
  readonly settledForMs?: number;
}

/** What the catalogue knew before the walk; whatever the walk does not see again is gone. */
interface ScanState {
  readonly known: Map<string, FileStamp>;
  /** Album path → its real path as catalogued. */
  readonly knownAlbums: Map<string, string | null>;
  readonly knownSkips: Map<string, SkipRecord>;
  readonly changes: Change[];
  readonly candidates: Candidate[];
  /** Candidates whose inode changed after this instant are deferred. */
  readonly changedBefore: number;
  albums: number;
  unchanged: number;
  skipped: number;
  deferred: number;
}

/**
 * Brings the catalogue in line with the tree below `start` (the media root for a full
 * scan). What is known is loaded once, in pages; the walk compares every file's size and
 * mtime against it in memory, so an unchanged tree costs little more than the walk itself.
 * Only new and changed files are read, a few at a time, and written in batched transactions.
 */
export async function scanTree(deps: ScannerDeps, start: ParentFolder, options: ScanOptions = {}): Promise<ScanReport> {
  const startedAt = performance.now();
  const scope = start.relativePath === '' ? '(media root)' : start.relativePath;
  const state = await loadState(deps.table, start.relativePath, options.settledForMs === undefined ? Infinity : Date.now() - options.settledForMs);
  const progress = { phase: 'walking' as 'walking' | 'reading', folders: 0, entries: 0, toRead: 0, read: 0 };
  const ticker = setInterval(() => deps.log.info({ scope, ...progress }, 'library scan in progress'), PROGRESS_EVERY_MS);
  ticker.unref();
  try {
    const buffer = createCommitBuffer(deps.writer);
    const walked = await walkTree(deps.root, start, visitorFor(state), progress, deps.signal);
    await pushAll(buffer, state.changes);
    // After a partial walk, "not seen" does not mean "gone".
    if (walked) await pushAll(buffer, leftovers(state));
    buffer.flush();
    Object.assign(progress, { phase: 'reading', toRead: state.candidates.length });
    await readCandidates(deps, state, buffer, progress);
    const totals = buffer.flush();
    const report: ScanReport = {
      albums: state.albums,
      items: state.unchanged + totals.added + totals.updated,
      ...totals,
      skipped: state.skipped,
      deferred: state.deferred,
      ms: Math.round(performance.now() - startedAt),
      complete: walked && !deps.signal.aborted,
    };
    deps.log.info({ scope, ...report }, 'library scan finished');
    return report;
  } finally {
    clearInterval(ticker);
  }
}

async function readCandidates(deps: ScannerDeps, state: ScanState, buffer: CommitBuffer, progress: { read: number }): Promise<void> {
  const onRead = (change: Change | undefined): void => {
    if (change?.op === 'skip') state.skipped += 1;
    progress.read += 1;
  };
  await readHeaders(state.candidates, deps, buffer, onRead);
}

async function loadState(table: CatalogueTable, prefix: string, changedBefore: number): Promise<ScanState> {
  const knownAlbums = table.loadAlbums(prefix);
  const knownSkips = table.loadSkips(prefix);
  // The scanned folder itself is the caller's business, never one of its own entries.
  knownAlbums.delete(prefix);
  knownSkips.delete(prefix);
  const known = new Map<string, FileStamp>();
  for (const page of table.stampPages(prefix, LOAD_PAGE_SIZE)) {
    for (const [path, stamp] of page) known.set(path, stamp);
    await yieldToEventLoop();
  }
  return { known, knownAlbums, knownSkips, changes: [], candidates: [], changedBefore, albums: 0, unchanged: 0, skipped: 0, deferred: 0 };
}

function visitorFor(state: ScanState): WalkVisitor {
  return {
    entry: (found) => see(state, found),
    folderFailed(folder, error) {
      const relativePath = folder.relativePath;
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
        state.changes.push({ op: 'forget', relativePath });
        return;
      }
      const record: SkipRecord = { path: relativePath, reason: 'unreadable', size: 0, mtimeMs: 0 };
      see(state, { kind: 'skip', record, detail: error.code ?? error.message });
    },
  };
}

function see(state: ScanState, found: Classified): void {
  switch (found.kind) {
    case 'album':
      return seeAlbum(state, found.folder.relativePath, found.realPath);
    case 'media':
      return seeMedia(state, found.candidate);
    case 'skip':
      return seeSkip(state, found.record, found.detail);
    case 'gone':
      state.known.delete(found.relativePath);
      state.knownSkips.delete(found.relativePath);
      state.changes.push({ op: 'forget', relativePath: found.relativePath });
      return;
  }
}

function seeAlbum(state: ScanState, albumPath: string, realPath: string): void {
  state.albums += 1;
  const wasSkipped = state.knownSkips.delete(albumPath);
  const knownRealPath = state.knownAlbums.get(albumPath);
  state.knownAlbums.delete(albumPath);
  if (wasSkipped || knownRealPath !== realPath) state.changes.push({ op: 'album', albumPath });
}

function seeMedia(state: ScanState, candidate: Candidate): void {
  const path = candidate.relativePath;
  const previous = state.known.get(path);
  const previousSkip = state.knownSkips.get(path);
  state.known.delete(path);
  state.knownSkips.delete(path);
  // A video catalogued before ffprobe was there is read again once it is.
  if (previous !== undefined && sameFile(previous, candidate) && !(previous.unprobed === true && canProbeVideos())) {
    state.unchanged += 1;
    return;
  }
  // Known to be broken and untouched since: not decoded again, not logged again.
  if (previousSkip !== undefined && CONTENT_REASONS.has(previousSkip.reason) && sameFile(previousSkip, candidate)) {
    state.skipped += 1;
    return;
  }
  // Still being written: reading it now could catalogue half a photo. Kept as known, so not forgotten.
  if (candidate.changedMs > state.changedBefore) {
    state.deferred += 1;
    return;
  }
  state.candidates.push(candidate);
}

function seeSkip(state: ScanState, record: SkipRecord, detail: string | undefined): void {
  state.skipped += 1;
  const hadItem = state.known.delete(record.path);
  const hadAlbum = state.knownAlbums.delete(record.path);
  const previous = state.knownSkips.get(record.path);
  state.knownSkips.delete(record.path);
  if (hadItem || hadAlbum || !isSameSkip(previous, record)) state.changes.push({ op: 'skip', record, detail });
}

function sameFile(known: { size: number; mtimeMs: number; type?: string }, found: Candidate): boolean {
  return known.size === found.size && known.mtimeMs === found.mtimeMs && (known.type ?? found.type) === found.type;
}

/** Thousands of albums found at once are committed batch by batch, yielding in between. */
async function pushAll(buffer: CommitBuffer, changes: Iterable<Change>): Promise<void> {
  const slicer = createTimeSlicer(8);
  for (const change of changes) {
    buffer.push(change);
    if (slicer.due()) await slicer.yield();
  }
}

function* leftovers(state: ScanState): Generator<Change> {
  for (const path of state.known.keys()) yield { op: 'forget', relativePath: path };
  for (const path of state.knownAlbums.keys()) yield { op: 'forget', relativePath: path };
  for (const path of state.knownSkips.keys()) yield { op: 'forget', relativePath: path };
}
