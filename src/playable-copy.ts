/*
 * The web-playable copy of a video: H.264 video and AAC audio in an MP4 that starts playing
 * before it has all arrived (`faststart`), with nothing of what the camera wrote beyond the
 * picture and the sound. Streams a browser already plays are copied as they are (a phone's
 * H.264 in seconds); anything else (an iPhone's HEVC, AVI, MKV, MPEG-2 …) is transcoded at
 * most 1920 px a side, one thread at low priority, so it never holds back the photos.
 * Pure: what to do with which streams, and ffmpeg's arguments for it (ffmpeg.ts runs them).
 */

/** What becomes of the picture and of the sound. */
export interface CopyPlan {
  readonly video: 'copy' | 'h264';
  readonly audio: 'copy' | 'aac' | 'none';
}

interface StreamFacts {
  readonly codec_type?: string;
  readonly codec_name?: string;
  readonly pix_fmt?: string;
  readonly disposition?: { readonly attached_pic?: number };
}

/** H.264 in 8-bit 4:2:0 plays in every browser; 10-bit or 4:4:4 H.264 does not. */
const PLAYABLE_PIXEL_FORMATS = new Set(['yuv420p', 'yuvj420p']);

/** The longest side of a transcoded picture: full HD, enough for any screen a family watches on. */
export const TRANSCODE_MAX_EDGE = 1920;

/** Changing how copies are made changes their names (derivatives.ts hashes it), so old copies are pruned. */
export const PLAYABLE_COPY_SETTINGS = Object.freeze({ version: 2, crf: 23, preset: 'veryfast', maxEdge: TRANSCODE_MAX_EDGE, audioBitrate: '128k' });

/** Reads ffprobe's streams: the first real picture (not a cover) and the first sound. */
export function copyPlanFrom(output: { readonly streams?: readonly StreamFacts[] }): CopyPlan {
  const streams = output.streams ?? [];
  const video = streams.find((stream) => stream.codec_type === 'video' && stream.disposition?.attached_pic !== 1);
  const audio = streams.find((stream) => stream.codec_type === 'audio');
  const videoPlays = video?.codec_name === 'h264' && PLAYABLE_PIXEL_FORMATS.has(video.pix_fmt ?? '');
  return {
    video: videoPlays ? 'copy' : 'h264',
    audio: audio === undefined ? 'none' : audio.codec_name === 'aac' ? 'copy' : 'aac',
  };
}

function videoArguments(plan: CopyPlan): string[] {
  // A copied stream keeps its own messages (SEI, NAL type 6), where AVCHD camcorders write their
  // GPS: they go, and the picture stays as it is. A transcode writes new ones (x264's settings).
  if (plan.video === 'copy') return ['-c:v', 'copy', '-bsf:v', 'filter_units=remove_types=6', '-tag:v', 'avc1'];
  const { crf, preset, maxEdge } = PLAYABLE_COPY_SETTINGS;
  // A phone's rotation is applied first (ffmpeg turns the frames), so the limit is on the picture as shown.
  const fit = `scale='min(${maxEdge},iw)':'min(${maxEdge},ih)':force_original_aspect_ratio=decrease:force_divisible_by=2`;
  return ['-vf', fit, '-c:v', 'libx264', '-preset', preset, '-crf', String(crf), '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-threads', '1'];
}

function audioArguments(plan: CopyPlan): string[] {
  if (plan.audio === 'none') return [];
  if (plan.audio === 'copy') return ['-c:a', 'copy'];
  return ['-c:a', 'aac', '-b:a', PLAYABLE_COPY_SETTINGS.audioBitrate, '-ac', '2'];
}

/**
 * ffmpeg's arguments: `input` (ffmpeg.ts's checked descriptor), one picture (`V`: never a cover
 * art, which ffmpeg may list first) and at most one sound
 * (no timed metadata tracks: an iPhone's carry its location), no global, stream or chapter
 * metadata, bit-exact muxing (no encoder tags, no creation time), at most `maxBytes` written to
 * `output` (a file keepsake named in its cache, given with `file:` so it is never read as a protocol).
 */
export function playableCopyArguments(input: readonly string[], plan: CopyPlan, output: string, maxBytes: number): string[] {
  return [
    '-nostdin', '-hide_banner', '-v', 'error', '-threads', '1', ...input,
    '-map', '0:V:0', ...(plan.audio === 'none' ? [] : ['-map', '0:a:0']),
    '-map_metadata', '-1', '-map_metadata:s', '-1', '-map_chapters', '-1', '-sn', '-dn',
    ...videoArguments(plan), ...audioArguments(plan),
    '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact',
    '-movflags', '+faststart', '-fs', String(maxBytes), '-f', 'mp4', '-y', `file:${output}`,
  ];
}

/** A copy may be this large: a transcode of a small phone video can outgrow its HEVC source. */
export function playableCopyLimit(sourceBytes: number): number {
  return 4 * sourceBytes + 32 * 1024 * 1024;
}
