import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DECODABLE_FORMATS, isSelfOrienting, needsHeicDecoder, NoRawPreviewError, openPhoto, pictureBytes, sharp, type SharpOptions } from '../decoders.js';
import { isRawPhoto } from '../media-contract.js';
import { motionVideoLength, startsLikeMp4 } from '../motion-photos.js';
import { exifFacts, type Position } from './exif-facts.js';
import type { PhotoInfo } from './photo-info.js';
import { KeepsakeError } from '../errors.js';
import { openVerified, readVerified } from '../paths.js';
import type { SkipReason } from './skip-reasons.js';

/** sharp's own default pixel limit (0x3FFF squared), named so the check below and the decoder agree. */
export const MAX_INPUT_PIXELS = 268_402_689;

/**
 * 'error' rejects truncated and corrupt data but lets through the harmless warnings many
 * cameras' JPEGs raise ('extraneous bytes before marker'), which 'warning' would refuse.
 */
export const IMAGE_INPUT_OPTIONS = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' } as const satisfies SharpOptions;

/** Small enough that JPEG decodes at 1/8 scale, yet every byte of the image is still read. */
const DECODE_CHECK_SIZE = 64;

/** Like a derivative job's: a hostile file cannot hold a catalogue read for longer than this. */
export const DECODE_CHECK_TIME_LIMIT_MS = 30_000;


export interface ImageFacts {
  /** Pixel size after EXIF orientation. */
  readonly width: number;
  readonly height: number;
  /** Epoch ms of EXIF DateTimeOriginal, when present and plausible. */
  readonly takenAt: number | undefined;
  /** A Motion Photo's appended MP4: its length in bytes, at the end of the file (motion-photos.ts). */
  readonly motionBytes?: number;
  /** Where it was taken, from EXIF GPS (shown only to keys whose location policy allows it). */
  readonly position?: Position;
  /** Camera, lens and exposure from the allow-list (photo-info.ts); empty when the EXIF has none. */
  readonly info?: PhotoInfo;
}


export type ImageReader = (file: string) => Promise<ImageFacts>;

/** The image cannot be catalogued; `reason` says why in the catalogue's terms. */
export class UnreadableImageError extends KeepsakeError {
  constructor(
    readonly reason: SkipReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('IMAGE_UNREADABLE', message, options);
  }
}

/** A JPEG's header (EXIF, ICC, the frame size) lies well within its first bytes. */
const JPEG_HEADER_BYTES = 256 * 1024;

/**
 * Reads what the catalogue needs from an image's header: pixel size after EXIF orientation and
 * date taken. A decompression bomb is refused from its header, and content that is not one of
 * the listed formats (an SVG named .jpg) by its bytes. Of a JPEG only the first 256 KiB are read
 * (all of it when the header reaches further); other formats may keep their metadata anywhere
 * and are read whole. Whether every pixel decodes is checked afterwards (checkImageDecodes), off
 * the path that makes a dropped photo visible. The bytes come from the open file whose real place
 * was checked (it must lie in the folder holding it).
 */
export async function readImageFacts(file: string): Promise<ImageFacts> {
  return withTimeLimit(headerFacts(file), DECODE_CHECK_TIME_LIMIT_MS);
}

async function headerFacts(file: string): Promise<ImageFacts> {
  const folder = path.dirname(file);
  const { handle, stats } = await openVerified(folder, [path.basename(file)], folder);
  try {
    const read = await readHeader(handle, stats.size, file);
    const length = read.xmp === undefined ? undefined : motionVideoLength(read.xmp, stats.size);
    if (length === undefined) return read.facts;
    // Believed only when the bytes there begin an MP4: one small read.
    const head = Buffer.alloc(8);
    await handle.read(head, 0, head.length, stats.size - length);
    return startsLikeMp4(head) ? { ...read.facts, motionBytes: length } : read.facts;
  } finally {
    await handle.close();
  }
}

async function readHeader(handle: FileHandle, size: number, file: string): Promise<{ facts: ImageFacts; xmp: string | undefined }> {
  // A RAW's preview may lie anywhere in it: read whole, and its preview described.
  if (isRawPhoto(file)) return factsOf(previewOf(await handle.readFile(), file));
  // One read: the whole of a small file, the first bytes of a large one (the size is known from fstat).
  const head = Buffer.alloc(Math.min(size, JPEG_HEADER_BYTES));
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  if (size <= JPEG_HEADER_BYTES) return factsOf(head.subarray(0, bytesRead));
  if (bytesRead === head.length && head[0] === 0xff && head[1] === 0xd8) {
    const facts = await factsOf(head).catch(() => undefined);
    if (facts !== undefined) return facts;
  }
  return factsOf(await handle.readFile());
}

/**
 * Proves sharp can decode the whole image: the header alone would accept a truncated JPEG, so
 * it is decoded at a tiny size (JPEG shrinks on load, so this costs a fraction of a thumbnail),
 * under the time limit. The derivative pipeline would refuse a broken file anyway; this check
 * lets the catalogue drop it, with its reason, rather than show a photo that never loads.
 */
export async function checkImageDecodes(file: string): Promise<void> {
  const folder = path.dirname(file);
  const bytes = await readVerified(folder, [path.basename(file)], folder);
  await withTimeLimit(decodes(previewOf(bytes, file)), DECODE_CHECK_TIME_LIMIT_MS);
}

/** The picture of a photo file (a RAW's embedded preview); a RAW without one cannot be shown. */
function previewOf(bytes: Buffer, file: string): Buffer {
  try {
    return pictureBytes(bytes, file);
  } catch (error) {
    if (error instanceof NoRawPreviewError) throw new UnreadableImageError('unreadable-image', error.message, { cause: error });
    throw error;
  }
}

async function factsOf(bytes: Buffer): Promise<{ facts: ImageFacts; xmp: string | undefined }> {
  const metadata = await sharp(bytes, IMAGE_INPUT_OPTIONS)
    .metadata()
    .catch((error: unknown) => {
      throw unreadable(error);
    });
  if (!DECODABLE_FORMATS.has(metadata.format)) {
    throw new UnreadableImageError('not-a-photo', `its content is ${metadata.format}, not a photo format keepsake reads`);
  }
  const width = metadata.width;
  const height = metadata.pageHeight ?? metadata.height;
  if (width * height > MAX_INPUT_PIXELS) {
    throw new UnreadableImageError('too-many-pixels', `${width}×${height} pixels is more than ${MAX_INPUT_PIXELS}`);
  }
  // Orientations 5–8 turn the picture a quarter turn, so what the viewer sees is transposed;
  // HEIF turns its pixels itself as they decode, and its size is already the upright one.
  const turned = !isSelfOrienting(metadata) && (metadata.orientation ?? 1) >= 5;
  const { takenAt, position, info } = exifFacts(metadata.exif);
  const facts = { width: turned ? height : width, height: turned ? width : height, takenAt, info, ...(position === undefined ? {} : { position }) };
  return { facts, xmp: metadata.xmp?.toString('utf8') };
}

async function decodes(bytes: Buffer): Promise<void> {
  try {
    const metadata = await sharp(bytes, IMAGE_INPUT_OPTIONS).metadata();
    const photo = await openPhoto(bytes, needsHeicDecoder(metadata) ? metadata : undefined, { ...IMAGE_INPUT_OPTIONS, timeoutMs: DECODE_CHECK_TIME_LIMIT_MS });
    await photo
      .timeout({ seconds: Math.ceil(DECODE_CHECK_TIME_LIMIT_MS / 1000) })
      .resize(DECODE_CHECK_SIZE, DECODE_CHECK_SIZE, { fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer();
  } catch (error) {
    throw unreadable(error);
  }
}

/** sharp's own timer runs only while pixels flow; this one bounds the whole check. */
async function withTimeLimit<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnreadableImageError('unreadable-image', `decoding took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function unreadable(error: unknown): UnreadableImageError {
  const message = error instanceof Error ? error.message : String(error);
  const reason: SkipReason = /pixel limit/i.test(message)
    ? 'too-many-pixels'
    : /unsupported image format/i.test(message)
      ? 'not-a-photo'
      : 'unreadable-image';
  return new UnreadableImageError(reason, message, { cause: error });
}
