import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { heicDecoder } from './heic.js';
import { isRawPhoto } from './media-contract.js';
import { rawPreview } from './raw-previews.js';

/*
 * sharp with only the image decoders of the formats keepsake lists. libvips picks a decoder from
 * a file's bytes, not its name, so without this a `.jpg` that is really an SVG, a PDF, a PPM or a
 * libvips `.v` file would be decoded (librsvg, poppler and friends: a large attack surface for a
 * photo gallery). Every loader is blocked process-wide, then the loaders of the listed formats
 * are let through again. keepsake itself hands sharp the bytes of a file it opened and checked
 * (src/paths.ts), never a path. Import sharp from here, never directly; open a photo with
 * openPhoto(), which also takes the HEIC photos this sharp cannot decode (heic.ts).
 */

/** libvips's loaders (file, memory and stream alike) for JPEG, PNG, WebP, TIFF, GIF and HEIF (AVIF, HEIC). */
const ALLOWED_LOADERS = [
  'VipsForeignLoadJpeg',
  'VipsForeignLoadPng',
  'VipsForeignLoadWebp',
  'VipsForeignLoadTiff',
  'VipsForeignLoadNsgif',
  'VipsForeignLoadHeif',
] as const;

/**
 * The image library's version, part of every derivative's cache name: nodes that share a media
 * root agree on a derivative's bytes exactly when they run the same libvips.
 */
export const IMAGE_LIBRARY_VERSION: string = sharp.versions.vips;

/** What sharp's metadata() calls the formats those loaders read. */
export const DECODABLE_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif']);

sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: [...ALLOWED_LOADERS] });

export { sharp };
export type { Sharp, SharpOptions, Metadata } from 'sharp';
export { HeicDecodeError, heicDecoder, heicDecoders, useHeicDecoder, type HeicDecoder } from './heic.js';

/** Whether this sharp decodes HEVC itself; the prebuilt binaries read AVIF through libheif but carry no HEVC decoder, for patent reasons. */
const SHARP_DECODES_HEIC = (sharp.format.heif.input.fileSuffix ?? []).includes('.heic');

/** Whether sharp's metadata() describes a picture this sharp cannot decode: HEVC in HEIF (heic.ts decodes it). */
export function needsHeicDecoder(metadata: { readonly format?: string; readonly compression?: string }): boolean {
  return metadata.format === 'heif' && metadata.compression === 'hevc' && !SHARP_DECODES_HEIC;
}

/** Whether a format applies its own rotation on decode (HEIF's irot and imir), so EXIF orientation must not turn it again. */
export function isSelfOrienting(metadata: { readonly format?: string }): boolean {
  return metadata.format === 'heif';
}

/**
 * The bytes sharp decodes for a photo file: the file's own, or for a camera RAW the JPEG preview
 * embedded in it (raw-previews.ts; throws NoRawPreviewError when it has none).
 */
export function pictureBytes(bytes: Buffer, fileName: string): Buffer {
  return isRawPhoto(fileName) ? rawPreview(bytes) : bytes;
}
export { NoRawPreviewError } from './raw-previews.js';

export interface PhotoInput {
  readonly limitInputPixels: number;
  readonly failOn: SharpOptions['failOn'];
  readonly sequentialRead?: boolean;
  /** For a HEIC, the time its decoder may take (sharp's own timer covers the rest). */
  readonly timeoutMs: number;
}

/**
 * sharp over a photo's bytes, upright and ready for resizing, whatever the format: a HEIC this
 * sharp cannot decode goes through heic.ts first (`heic` is its header's size, or undefined for
 * every other photo). The one place the two kinds of input meet.
 */
export async function openPhoto(bytes: Buffer, heic: { readonly width: number; readonly height: number } | undefined, input: PhotoInput): Promise<Sharp> {
  const options: SharpOptions = { failOn: input.failOn, limitInputPixels: input.limitInputPixels, sequentialRead: input.sequentialRead ?? false };
  if (heic === undefined) return sharp(bytes, { ...options, autoOrient: true });
  const pixels = await heicDecoder().decode(bytes, { timeoutMs: input.timeoutMs, pixels: heic.width * heic.height });
  if (pixels.kind === 'encoded') return sharp(pixels.bytes, options);
  return sharp(pixels.data, { limitInputPixels: input.limitInputPixels, raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } });
}
