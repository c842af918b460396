import path from 'node:path';
import { videoTools, VideoUnreadableError, type VideoFacts } from '../ffmpeg.js';
import { openVerified } from '../paths.js';

/**
 * What the catalogue records of a video: its shown size, length and recording date, from
 * ffprobe over the open file whose real place was checked (it must lie in the folder holding
 * it). Undefined when ffprobe is not installed: the video is then catalogued unprobed, and read
 * again by the first scan after it is.
 */
export async function readVideoFacts(file: string): Promise<VideoFacts | undefined> {
  if (!canProbeVideos()) return undefined;
  const folder = path.dirname(file);
  const { handle } = await openVerified(folder, [path.basename(file)], folder);
  try {
    return await videoTools().probe(handle, path.basename(file));
  } finally {
    await handle.close();
  }
}

export function canProbeVideos(): boolean {
  return videoTools().missing === undefined;
}

export { VideoUnreadableError };
