import { statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { Change } from './catalogue-writer.js';
import type { CommitBuffer } from './commit-buffer.js';
import { forEachWithLimit } from './concurrency.js';
import { UnreadableImageError, type ImageReader } from './metadata.js';
import { splitRelative } from './relative-path.js';
import { isGoneError, type Candidate } from './rules.js';
import type { MediaItem } from './types.js';
import { readVideoFacts, VideoUnreadableError } from './video-facts.js';

/** Out of file descriptors is a moment's trouble, not a broken photo: wait and try again. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);
const RETRY_DELAYS_MS = [100, 400, 1600] as const;

/** A photo just catalogued from its header: resolves when it decodes, throws (UnreadableImageError) when not. */
export type ImageChecker = (candidate: Candidate) => Promise<void>;

/**
 * Turns a candidate file into the change it calls for: an item with its pixel size and
 * date taken, a skip with the reason, a forget when it vanished before it was read, or
 * nothing when it is still being written or the system is out of file handles (a later
 * event or scan will bring it).
 */
export async function readCandidate(candidate: Candidate, readImage: ImageReader, log: Logger): Promise<Change | undefined> {
  const { albumPath, name } = splitRelative(candidate.relativePath);
  const base = { albumPath, name, type: candidate.type, size: candidate.size, mtimeMs: candidate.mtimeMs };
  if (candidate.type === 'video') return readVideo(candidate, base, log);
  try {
    const facts = await retryingTransient(() => readImage(candidate.file));
    const item = {
      ...base,
      width: facts.width,
      height: facts.height,
      takenAt: facts.takenAt ?? candidate.mtimeMs,
      ...(facts.motionBytes === undefined ? {} : { motionBytes: facts.motionBytes }),
      ...(facts.position === undefined ? {} : { position: facts.position }),
      ...(facts.info === undefined ? {} : { info: facts.info }),
    };
    return { op: 'item', item, file: candidate.file };
  } catch (error) {
    return afterFailure(candidate, error, log);
  }
}

/**
 * A video is always listed: with its size, length and date when ffprobe reads it; unprobed
 * (no size, dated by its mtime) when ffprobe is not installed; and with length 0 and one log
 * line when it cannot be read, so it shows with a placeholder rather than a poster.
 */
async function readVideo(candidate: Candidate, base: Omit<MediaItem, 'width' | 'height' | 'takenAt'>, log: Logger): Promise<Change | undefined> {
  const unprobed = { ...base, width: 0, height: 0, takenAt: candidate.mtimeMs };
  let facts;
  try {
    facts = await retryingTransient(() => readVideoFacts(candidate.file));
  } catch (error) {
    if (!(error instanceof VideoUnreadableError)) return afterFailure(candidate, error, log);
    log.warn({ path: candidate.relativePath, reason: error.message }, 'video cannot be read; it is listed without a poster or length');
    return { op: 'item', item: { ...unprobed, durationMs: 0 }, file: candidate.file };
  }
  if (facts === undefined) return { op: 'item', item: unprobed, file: candidate.file };
  const item = { ...base, width: facts.width, height: facts.height, takenAt: facts.takenAt ?? candidate.mtimeMs, durationMs: facts.durationMs, ...(facts.position === undefined ? {} : { position: facts.position }) };
  return { op: 'item', item, file: candidate.file };
}

/**
 * The decode check of an image already catalogued from its header: nothing when it decodes,
 * the skip (which drops the item) when it does not, nothing when it changed meanwhile (its next
 * event or scan reads it again).
 */
export async function checkCandidate(candidate: Candidate, checkImage: ImageChecker, log: Logger): Promise<Change | undefined> {
  try {
    await retryingTransient(() => checkImage(candidate));
    return undefined;
  } catch (error) {
    return afterFailure(candidate, error, log);
  }
}

/** Where photos read from their headers go to have their decode proven, without anyone waiting. */
export type DecodeChecks = (candidates: readonly Candidate[]) => void;

/**
 * Reads the header of every candidate (committed as they come), then hands the images read to
 * `checks`, which proves they decode in its own time: a scan or a watcher batch never waits for
 * that (behind a drop of thousands, a check may wait behind every thumbnail).
 */
export async function readHeaders(
  candidates: readonly Candidate[],
  deps: { readonly readImage: ImageReader; readonly checks: DecodeChecks; readonly log: Logger; readonly readConcurrency: number; readonly signal: AbortSignal },
  buffer: CommitBuffer,
  onRead: (change: Change | undefined) => void = () => {},
): Promise<void> {
  const catalogued: Candidate[] = [];
  await forEachWithLimit(candidates, deps.readConcurrency, async (candidate) => {
    const change = await readCandidate(candidate, deps.readImage, deps.log);
    if (change?.op === 'item' && candidate.type === 'image') catalogued.push(candidate);
    onRead(change);
    buffer.push(change);
  }, deps.signal);
  buffer.flush();
  if (catalogued.length > 0) deps.checks(catalogued);
}

/** The decode checks of a library: each batch proven a few at a time, a broken photo dropped with its reason. */
export function createDecodeChecks(deps: {
  readonly checkImage: ImageChecker;
  readonly buffer: CommitBuffer;
  readonly log: Logger;
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly track: (work: Promise<void>) => Promise<void>;
}): DecodeChecks {
  // On close, a check waiting (behind a queue of thumbnails, say) is let go rather than awaited.
  const stopped = new Promise<undefined>((resolve) => deps.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
  return (candidates) => {
    const work = forEachWithLimit(candidates, deps.concurrency, async (candidate) => {
      deps.buffer.push(await Promise.race([checkCandidate(candidate, deps.checkImage, deps.log), stopped]));
    }, deps.signal).then(() => {
      deps.buffer.flush();
    });
    void deps.track(work).catch((error: unknown) => deps.log.warn({ err: error }, 'decode checks stopped'));
  };
}

async function retryingTransient<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const retryIn = RETRY_DELAYS_MS[attempt];
      if (!isTransient(error) || retryIn === undefined) throw error;
      await delay(retryIn);
    }
  }
}

function afterFailure(candidate: Candidate, error: unknown, log: Logger): Change | undefined {
  const now = currentStat(candidate.file);
  if (now === 'gone') return { op: 'forget', relativePath: candidate.relativePath };
  if (now === undefined || now.size !== candidate.size || now.mtimeMs !== candidate.mtimeMs) {
    return undefined; // still being written: judge it when it has settled
  }
  if (error instanceof UnreadableImageError) {
    const record = { path: candidate.relativePath, reason: error.reason, size: candidate.size, mtimeMs: candidate.mtimeMs };
    return { op: 'skip', record, detail: error.message };
  }
  const message = 'could not read a media file; it will be tried again on its next change or scan';
  log.warn({ err: error, path: candidate.relativePath }, message);
  return undefined;
}

function currentStat(file: string): { size: number; mtimeMs: number } | 'gone' | undefined {
  try {
    const stats = statSync(file);
    return { size: stats.size, mtimeMs: Math.trunc(stats.mtimeMs) };
  } catch (error) {
    return isGoneError(error) ? 'gone' : undefined;
  }
}

function isTransient(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  // libvips reports a failed open() as text, not as an errno code.
  const message = error instanceof Error ? error.message : '';
  return /too many open files/i.test(message);
}
