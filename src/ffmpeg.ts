import { stat, type FileHandle } from 'node:fs/promises';
import { KeepsakeError } from './errors.js';
import { mediaFormatOf } from './media-contract.js';
import { copyPlanFrom, playableCopyArguments, playableCopyLimit, type CopyPlan } from './playable-copy.js';
import { runTool, toolPath } from './system-tools.js';

/*
 * What keepsake asks of Debian's ffprobe and ffmpeg about a video: its size, length and date,
 * and one frame to make its poster from. Both read the video from the descriptor keepsake
 * opened and checked (as /dev/stdin, so they can seek in it), never from a path they would
 * resolve themselves; the file's own name never reaches them. The container's demuxer is named
 * from the file's kind (a `.mp4` is read as QuickTime/MP4 and nothing else), so a file that is
 * really a playlist or a concat script is never followed to other files, and only the `file`
 * protocol is allowed. Each run has a time and a memory limit (system-tools.ts).
 * Without the programs, videos are served as they are, with no poster and no length.
 */

export interface VideoFacts {
  /** The picture's size as shown (a phone's rotation applied). */
  readonly width: number;
  readonly height: number;
  readonly durationMs: number;
  /** When the camera says it was recorded (epoch ms), when it says so plausibly. */
  readonly takenAt: number | undefined;
  /** Where, from QuickTime's ISO 6709 location tag (`+48.8584+002.2945/`). */
  readonly position?: { readonly latitude: number; readonly longitude: number };
}

const ISO_6709 = /^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)/;

/** An ISO 6709 position in decimal degrees (the form phones write), when plausible. */
export function positionFromIso6709(text: string | undefined): { latitude: number; longitude: number } | undefined {
  const match = text === undefined ? null : ISO_6709.exec(text.trim());
  if (match === null) return undefined;
  const [latitude, longitude] = [Number(match[1]), Number(match[2])];
  return Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180 ? { latitude, longitude } : undefined;
}

export class VideoUnreadableError extends KeepsakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIDEO_UNREADABLE', message, options);
  }
}

/** ffmpeg's demuxer for each video type of the media contract. */
const DEMUXERS: Readonly<Record<string, string>> = {
  'video/mp4': 'mov',
  'video/x-m4v': 'mov',
  'video/quicktime': 'mov',
  'video/3gpp': 'mov',
  'video/webm': 'matroska',
  'video/x-matroska': 'matroska',
  'video/x-msvideo': 'avi',
  'video/mp2t': 'mpegts',
  'video/mpeg': 'mpeg',
};

/** The checked descriptor, handed to the program as its standard input. */
export const INPUT = 'file:/dev/stdin';
const PROBE_LIMITS = { timeoutMs: 20_000, memoryBytes: 512 * 1024 * 1024, maxOutputBytes: 1024 * 1024 };
/** A transcode takes about as long as the video plays on one core of a small box; an hour of video is the most. */
const COPY_LIMITS = { timeoutMs: 2 * 3600_000, memoryBytes: 2048 * 1024 * 1024, maxOutputBytes: 1024 * 1024, niceness: 10 };
const FRAME_LIMITS = { timeoutMs: 30_000, memoryBytes: 1536 * 1024 * 1024, maxOutputBytes: 256 * 1024 * 1024 };
/** QuickTime counts from 1904 and cameras with an unset clock write its zero: such dates mean nothing. */
const EARLIEST_RECORDED_AT = Date.UTC(1971, 0, 1);
/** A poster is the frame this far into the video (a first frame is often black). */
const POSTER_AT = 0.1;

export interface VideoTools {
  /** Undefined when ffmpeg and ffprobe are there; else the one line saying what is missing. */
  readonly missing: string | undefined;
  probe(handle: FileHandle, fileName: string): Promise<VideoFacts>;
  /** One frame about a tenth of the way in, as PNG bytes (no metadata), for the derivative pipeline. */
  posterFrame(handle: FileHandle, fileName: string, durationMs: number): Promise<Buffer>;
  /** Writes the web-playable copy (playable-copy.ts) to `output`, a file keepsake names; resolves with how it was made. */
  copyPlayable(handle: FileHandle, fileName: string, output: string, sourceBytes: number, signal?: AbortSignal): Promise<CopyPlan>;
}

/** How ffmpeg and ffprobe are told to read a checked descriptor of a file of this name's kind, and nothing else. */
export function inputArguments(fileName: string): string[] {
  const mime = mediaFormatOf(fileName)?.mime;
  const demuxer = mime === undefined ? undefined : DEMUXERS[mime];
  if (demuxer === undefined) throw new VideoUnreadableError(`no video demuxer for files like ${JSON.stringify(fileName)}`);
  return ['-protocol_whitelist', 'file', '-f', demuxer];
}

export interface ProbeStream {
  readonly codec_type?: string;
  readonly codec_name?: string;
  readonly pix_fmt?: string;
  readonly width?: number;
  readonly height?: number;
  readonly duration?: string;
  readonly disposition?: { readonly attached_pic?: number };
  readonly tags?: Readonly<Record<string, string>>;
  readonly side_data_list?: ReadonlyArray<{ readonly rotation?: number }>;
}

export interface ProbeOutput {
  readonly streams?: readonly ProbeStream[];
  readonly format?: { readonly duration?: string; readonly tags?: Readonly<Record<string, string>> };
}

function recordedAt(...tagSets: Array<Readonly<Record<string, string>> | undefined>): number | undefined {
  for (const tags of tagSets) {
    for (const key of ['com.apple.quicktime.creationdate', 'creation_time']) {
      const at = tags?.[key] === undefined ? Number.NaN : Date.parse(tags[key]);
      if (Number.isFinite(at) && at >= EARLIEST_RECORDED_AT) return at;
    }
  }
  return undefined;
}

function placeOf(tags: Readonly<Record<string, string>> | undefined): Pick<VideoFacts, 'position'> {
  const position = positionFromIso6709(tags?.['com.apple.quicktime.location.ISO6709'] ?? tags?.['location']);
  return position === undefined ? {} : { position };
}

/** Reads ffprobe's JSON: the first real video stream (not a cover picture), turned as a phone recorded it. */
export function videoFactsFrom(output: ProbeOutput): VideoFacts {
  const video = output.streams?.find((stream) => stream.codec_type === 'video' && stream.disposition?.attached_pic !== 1);
  if (video === undefined || !(Number(video.width) > 0 && Number(video.height) > 0)) throw new VideoUnreadableError('no video picture in it');
  const rotation = Number(video.side_data_list?.find((entry) => entry.rotation !== undefined)?.rotation ?? video.tags?.['rotate'] ?? 0);
  const turned = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  const seconds = Number(output.format?.duration ?? video.duration);
  return {
    width: turned ? video.height! : video.width!,
    height: turned ? video.width! : video.height!,
    durationMs: Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 0,
    takenAt: recordedAt(output.format?.tags, video.tags),
    ...placeOf(output.format?.tags),
  };
}

function unreadable(what: string) {
  return (error: unknown): never => {
    throw error instanceof VideoUnreadableError ? error : new VideoUnreadableError(`${what}: ${(error as Error).message}`, { cause: error });
  };
}

function tools(ffprobe: string, ffmpeg: string): VideoTools {
  async function frameAt(handle: FileHandle, fileName: string, seconds: number): Promise<Buffer> {
    const args = ['-nostdin', '-hide_banner', '-v', 'error', ...inputArguments(fileName), '-ss', seconds.toFixed(3), '-i', INPUT];
    args.push('-map', '0:V:0', '-frames:v', '1', '-an', '-sn', '-dn', '-map_metadata', '-1', '-c:v', 'png', '-compression_level', '1', '-f', 'image2pipe', 'pipe:1');
    return runTool(ffmpeg, args, { ...FRAME_LIMITS, stdinFd: handle.fd });
  }
  async function probeOutput(handle: FileHandle, fileName: string): Promise<ProbeOutput> {
    const args = ['-hide_banner', '-v', 'error', ...inputArguments(fileName), '-print_format', 'json', '-show_format', '-show_streams', INPUT];
    const output = await runTool(ffprobe, args, { ...PROBE_LIMITS, stdinFd: handle.fd }).catch(unreadable('ffprobe could not read it'));
    try {
      return JSON.parse(output.toString('utf8')) as ProbeOutput;
    } catch (error) {
      throw new VideoUnreadableError('ffprobe said something that is not JSON', { cause: error });
    }
  }
  return {
    missing: undefined,
    probe: async (handle, fileName) => videoFactsFrom(await probeOutput(handle, fileName)),
    async copyPlayable(handle, fileName, output, sourceBytes, signal) {
      const plan = copyPlanFrom(await probeOutput(handle, fileName));
      const limit = playableCopyLimit(sourceBytes);
      const args = playableCopyArguments([...inputArguments(fileName), '-i', INPUT], plan, output, limit);
      await runTool(ffmpeg, args, { ...COPY_LIMITS, stdinFd: handle.fd, ...(signal === undefined ? {} : { signal }) }).catch(unreadable('ffmpeg could not make a playable copy'));
      // ffmpeg stops quietly at -fs: a copy that reached it is cut short, not a copy.
      if ((await stat(output)).size >= limit) throw new VideoUnreadableError(`its playable copy would be larger than ${limit} bytes`);
      return plan;
    },
    async posterFrame(handle, fileName, durationMs) {
      const at = (durationMs / 1000) * POSTER_AT;
      let frame = await frameAt(handle, fileName, at).catch(unreadable('ffmpeg could not take a frame'));
      // A length that overstates the video leaves nothing at that time: the first frame then.
      if (frame.length === 0 && at > 0) frame = await frameAt(handle, fileName, 0).catch(unreadable('ffmpeg could not take a frame'));
      if (frame.length === 0) throw new VideoUnreadableError('ffmpeg found no frame in it');
      return frame;
    },
  };
}

function missingTools(line: string): VideoTools {
  const refuse = (): Promise<never> => Promise.reject(new VideoUnreadableError(line));
  return { missing: line, probe: refuse, posterFrame: refuse, copyPlayable: refuse };
}

let found: VideoTools | undefined;

/** ffprobe and ffmpeg of this machine, looked for once. */
export function videoTools(): VideoTools {
  if (found === undefined) {
    const ffprobe = toolPath('ffprobe');
    const ffmpeg = toolPath('ffmpeg');
    found =
      ffprobe !== undefined && ffmpeg !== undefined
        ? tools(ffprobe, ffmpeg)
        : missingTools('ffmpeg and ffprobe are not installed (Debian package ffmpeg): videos play as recorded (an iPhone\'s HEVC not in every browser), with no poster, no length and their metadata');
  }
  return found;
}
