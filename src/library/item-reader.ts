import { statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { Change } from './catalogue-writer.js';
import { UnreadableImageError, type ImageReader } from './metadata.js';
import { splitRelative } from './relative-path.js';
import { isGoneError, type Candidate } from './rules.js';

/** Out of file descriptors is a moment's trouble, not a broken photo: wait and try again. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);
const RETRY_DELAYS_MS = [100, 400, 1600] as const;

/**
 * Turns a candidate file into the change it calls for: an item with its pixel size and
 * date taken, a skip with the reason, a forget when it vanished before it was read, or
 * nothing when it is still being written or the system is out of file handles (a later
 * event or scan will bring it).
 */
export async function readCandidate(candidate: Candidate, readImage: ImageReader, log: Logger): Promise<Change | undefined> {
  const { albumPath, name } = splitRelative(candidate.relativePath);
  const base = { albumPath, name, type: candidate.type, size: candidate.size, mtimeMs: candidate.mtimeMs };
  if (candidate.type === 'video') {
    // Videos are served as they are; no probe, so no pixel size and no date but the mtime.
    return { op: 'item', item: { ...base, width: 0, height: 0, takenAt: candidate.mtimeMs }, file: candidate.file };
  }
  for (let attempt = 0; ; attempt += 1) {
    try {
      const facts = await readImage(candidate.file);
      const item = { ...base, width: facts.width, height: facts.height, takenAt: facts.takenAt ?? candidate.mtimeMs };
      return { op: 'item', item, file: candidate.file };
    } catch (error) {
      const retryIn = RETRY_DELAYS_MS[attempt];
      if (isTransient(error) && retryIn !== undefined) {
        await delay(retryIn);
        continue;
      }
      return afterFailure(candidate, error, log);
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
