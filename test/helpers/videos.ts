import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** Test videos, made here with Debian's ffmpeg (never downloaded). */
export const FFMPEG = '/usr/bin/ffmpeg';
export const FFPROBE = '/usr/bin/ffprobe';
export const VIDEO_TOOLS_MISSING = existsSync(FFMPEG) && existsSync(FFPROBE) ? undefined : `${FFMPEG} and ${FFPROBE} are not installed (Debian package ffmpeg)`;

const run = promisify(execFile);

export interface VideoFixture {
  readonly width?: number;
  readonly height?: number;
  readonly seconds?: number;
  /** A colour ffmpeg knows (`red`, `0x1030d0`): the whole picture, so a poster's colour can be checked. */
  readonly colour?: string;
  readonly codec?: 'h264' | 'hevc';
  /** Degrees a phone recorded it turned by (QuickTime's rotate tag). */
  readonly rotate?: 90 | 0;
  /** Written into the file as a phone would: a place (ISO 6709) and a recording time. */
  readonly location?: string;
  readonly createdAt?: string;
  /** Text carried inside the H.264 stream itself (an SEI user-data message), as camcorders write GPS. */
  readonly inStreamText?: string;
  /** Cover art, stored before the tracks as some taggers write it, so ffmpeg lists it as stream 0. */
  readonly coverFirst?: boolean;
}

/** Makes a short video with a sine tone at `file` (the container follows the extension). */
export async function makeVideo(file: string, options: VideoFixture = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const { width = 320, height = 240, seconds = 2, colour = 'red', codec = 'h264' } = options;
  const args = ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${colour}:size=${width}x${height}:rate=25:duration=${seconds}`];
  args.push('-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`);
  args.push('-c:v', codec === 'hevc' ? 'libx265' : 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest');
  if (codec === 'hevc') args.push('-tag:v', 'hvc1', '-x265-params', 'log-level=error');
  if (options.rotate) args.push('-metadata:s:v:0', `rotate=${options.rotate}`);
  if (options.location !== undefined) args.push('-metadata', `location=${options.location}`, '-metadata', `com.apple.quicktime.location.ISO6709=${options.location}`);
  if (options.createdAt !== undefined) args.push('-metadata', `creation_time=${options.createdAt}`);
  if (options.inStreamText !== undefined) args.push('-bsf:v', `h264_metadata=sei_user_data=17ee8c60-f84d-11d9-8cd6-0800200c9a66+${options.inStreamText}`);
  if (options.coverFirst !== true) {
    args.push('-movflags', 'use_metadata_tags', file);
    await run(FFMPEG, args);
    return;
  }
  const plain = `${file}.plain.mp4`;
  const cover = `${file}.cover.jpg`;
  await run(FFMPEG, [...args, plain]);
  await run(FFMPEG, ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0x20c040:size=64x64', '-frames:v', '1', cover]);
  const covered = `${file}.covered.mp4`;
  await run(FFMPEG, ['-hide_banner', '-v', 'error', '-y', '-i', plain, '-i', cover, '-map', '1', '-map', '0', '-c', 'copy', '-disposition:0', 'attached_pic', covered]);
  const { readFile, rm, writeFile } = await import('node:fs/promises');
  await writeFile(file, udtaBeforeTracks(await readFile(covered)));
  await Promise.all([plain, cover, covered].map((scratch) => rm(scratch)));
}

/** The same MP4 with the moov's udta (where ffmpeg writes cover art) moved before its tracks; moov is last, so no offset moves. */
function udtaBeforeTracks(bytes: Buffer): Buffer {
  const boxes = (start: number, end: number) => {
    const found: Array<{ type: string; start: number; end: number }> = [];
    for (let at = start; at + 8 <= end; at += bytes.readUInt32BE(at)) found.push({ type: bytes.toString('latin1', at + 4, at + 8), start: at, end: at + bytes.readUInt32BE(at) });
    return found;
  };
  const moov = boxes(0, bytes.length).find((box) => box.type === 'moov');
  if (moov === undefined || moov.end !== bytes.length) throw new Error('expected the moov box last');
  const children = boxes(moov.start + 8, moov.end);
  const ordered = [...children.filter((box) => box.type !== 'trak'), ...children.filter((box) => box.type === 'trak')];
  return Buffer.concat([bytes.subarray(0, moov.start + 8), ...ordered.map((box) => bytes.subarray(box.start, box.end))]);
}

/** ffprobe's view of a file's streams and format. */
export async function probe(file: string): Promise<{ streams: Array<Record<string, unknown>>; format: Record<string, unknown> }> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  return JSON.parse(stdout) as { streams: Array<Record<string, unknown>>; format: Record<string, unknown> };
}

/**
 * A Google Motion Photo as Pixel and Samsung cameras write it: a JPEG whose XMP announces a
 * video, and the MP4 appended after the picture. `dialect` picks the older MicroVideo attributes
 * or the newer Container:Directory; `lie` announces a video where there is none.
 */
export async function makeMotionPhoto(file: string, options: { dialect: 'micro-video' | 'container'; colour?: string; videoColour?: string; lie?: boolean }): Promise<void> {
  const scratch = path.join(path.dirname(file), `.motion-${path.basename(file)}.mp4`);
  await makeVideo(scratch, { seconds: 1, colour: options.videoColour ?? '0x2040c0', location: '+48.8584+002.2945/' });
  const { readFile, rm, writeFile } = await import('node:fs/promises');
  const video = options.lie === true ? Buffer.alloc(4096, 0x20) : await readFile(scratch);
  await rm(scratch);
  const length = video.length;
  const description =
    options.dialect === 'micro-video'
      ? `<rdf:Description rdf:about="" xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" GCamera:MicroVideo="1" GCamera:MicroVideoVersion="1" GCamera:MicroVideoOffset="${length}" GCamera:MicroVideoPresentationTimestampUs="500000"/>`
      : `<rdf:Description rdf:about="" xmlns:Camera="http://ns.google.com/photos/1.0/camera/" xmlns:Container="http://ns.google.com/photos/1.0/container/" xmlns:Item="http://ns.google.com/photos/1.0/container/item/" Camera:MotionPhoto="1" Camera:MotionPhotoVersion="1">
  <Container:Directory><rdf:Seq>
    <rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" Item:Length="0" Item:Padding="0"/></rdf:li>
    <rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" Item:Length="${length}" Item:Padding="0"/></rdf:li>
  </rdf:Seq></Container:Directory></rdf:Description>`;
  const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">${description}</rdf:RDF></x:xmpmeta>`;
  const { default: sharp } = await import('sharp');
  const photo = await sharp({ create: { width: 96, height: 64, channels: 3, background: options.colour ?? '#30a050' } }).jpeg().withXmp(xmp).toBuffer();
  await writeFile(file, Buffer.concat([photo, video]));
}
