import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { VideoTools } from '../ffmpeg.js';
import type { Logger } from '../log.js';
import { PLAYABLE, PLAYABLE_FORMAT } from '../media-contract.js';
import { PLAYABLE_COPY_SETTINGS } from '../playable-copy.js';
import type { AtomicWriter } from './cache-files.js';
import { DerivativeError, isDerivativeError } from './errors.js';
import { HASH_LENGTH, leafName, PIPELINE_VERSION, type SourceIdentity } from './naming.js';
import { createWorkQueue, type Priority, type QueuedTask } from './queue.js';

/*
 * The `playable` variant: each video's web-playable copy (playable-copy.ts says how), written by
 * ffmpeg to a temp file in the cache and renamed into place like every derivative. Copies have a
 * queue of their own, one at a time, so a long transcode never takes a photo's slot; ffmpeg runs
 * at low priority on one thread, so it never takes the photos' CPU either.
 */

/** A video opened for copying: a descriptor, and a name whose extension says its container. */
export interface OpenedVideo {
  readonly handle: FileHandle;
  readonly containerName: string;
  close(): Promise<void>;
}

/** A video as the copier needs it: its identity, and a way to open it (checked after it was opened). */
export interface VideoSource extends SourceIdentity {
  openVideo(): Promise<OpenedVideo>;
}

/** A video file, opened and checked: copied from as it is. */
export function videoFile(file: { readonly handle: FileHandle }, name: string): OpenedVideo {
  return { handle: file.handle, containerName: name, close: () => file.handle.close() };
}

/**
 * A Motion Photo's video: its last `motionBytes` bytes (motion-photos.ts), read from the photo's
 * checked descriptor into a private file of keepsake's (MP4 offsets count from the MP4's own
 * start, so ffmpeg cannot read it in place), removed again when the copy is made.
 */
export async function cutMotionVideo(photo: { readonly handle: FileHandle }, motionBytes: number): Promise<OpenedVideo> {
  const folder = await mkdtemp(path.join(tmpdir(), 'keepsake-motion-'));
  try {
    const { size } = await photo.handle.stat();
    const bytes = Buffer.alloc(motionBytes);
    const { bytesRead } = await photo.handle.read(bytes, 0, motionBytes, size - motionBytes);
    const file = path.join(folder, 'motion.mp4');
    const handle = await open(file, 'wx+', 0o600);
    await handle.writeFile(bytes.subarray(0, bytesRead));
    return { handle, containerName: 'motion.mp4', close: () => handle.close().finally(() => rm(folder, { recursive: true, force: true })) };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  } finally {
    await photo.handle.close();
  }
}

export interface PlayableCopies {
  leafFor(source: SourceIdentity): string;
  /** Makes the copy at `file` (its cache path) and resolves with it; rejects with a DerivativeError. */
  make(source: VideoSource, file: string, priority: Priority, owner: string | undefined): QueuedTask<string>;
  close(reason: () => Error): Promise<void>;
}

/** The short hash of everything that changes a copy's bytes. */
function copyHash(source: SourceIdentity): string {
  const material = JSON.stringify([PIPELINE_VERSION, PLAYABLE, PLAYABLE_COPY_SETTINGS, source.albumPath, source.name, source.size, source.mtimeMs]);
  return createHash('sha256').update(material).digest('hex').slice(0, HASH_LENGTH);
}

/** What ffmpeg's failure means for the cache: a full disk is NO_SPACE (try again later), else the video cannot be copied. */
function copyErrorFrom(error: unknown, what: string): DerivativeError {
  if (isDerivativeError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/No space left on device|Disk quota exceeded/i.test(message)) return new DerivativeError('NO_SPACE', `no space left for the playable copy of ${what}`, { cause: error });
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new DerivativeError('SOURCE_MISSING', `${what} is missing`, { cause: error });
  return new DerivativeError('UNREADABLE_SOURCE', `${what} cannot be copied as a playable video: ${message}`, { cause: error });
}

export function createPlayableCopies(options: { readonly tools: VideoTools; readonly writer: AtomicWriter; readonly log: Logger }): PlayableCopies {
  const { tools, writer, log } = options;
  const queue = createWorkQueue(1);
  const stopping = new AbortController();

  async function copy(source: VideoSource, file: string): Promise<string> {
    const what = source.albumPath === '' ? source.name : `${source.albumPath}/${source.name}`;
    const started = Date.now();
    const video = await source.openVideo().catch((error: unknown) => {
      throw copyErrorFrom(error, what);
    });
    try {
      await writer.writeWith(file, async (temp) => {
        const plan = await tools.copyPlayable(video.handle, video.containerName, temp, source.size, stopping.signal).catch((error: unknown) => {
          throw copyErrorFrom(error, what);
        });
        log.info({ album: source.albumPath, name: source.name, video: plan.video, audio: plan.audio, ms: Date.now() - started }, 'playable copy made');
      });
    } finally {
      await video.close();
    }
    return file;
  }

  return {
    leafFor: (source) => leafName(source, copyHash(source), PLAYABLE_FORMAT.extension),
    make: (source, file, priority, owner) => queue.push(() => copy(source, file), priority, owner),
    close(reason) {
      stopping.abort();
      return queue.close(reason);
    },
  };
}
