import sharp from 'sharp';

/*
 * sharp with only the image decoders of the formats keepsake lists. libvips picks a decoder from
 * a file's bytes, not its name, so without this a `.jpg` that is really an SVG, a PDF, a PPM or a
 * libvips `.v` file would be decoded (librsvg, poppler and friends: a large attack surface for a
 * photo gallery). Every loader is blocked process-wide, then the loaders of the listed formats
 * are let through again. keepsake itself hands sharp the bytes of a file it opened and checked
 * (src/paths.ts), never a path. Import sharp from here, never directly.
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

/** What sharp's metadata() calls the formats those loaders read. */
export const DECODABLE_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif']);

sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: [...ALLOWED_LOADERS] });

export { sharp };
export type { Sharp, SharpOptions, Metadata } from 'sharp';
