import { rgbaToThumbHash } from 'thumbhash';
import { needsHeicDecoder, openPhoto, pictureBytes, sharp } from '../decoders.js';
import { exifFacts } from './exif-facts.js';
import { IMAGE_INPUT_OPTIONS } from './metadata.js';
import type { PhotoInfo } from './photo-info.js';

/*
 * A photo's placeholder: a ThumbHash (about 25 bytes) the grid paints at once, in the photo's
 * shape and colours, until the real thumbnail arrives. Made from the same picture the derivatives
 * are (a RAW's embedded preview, a HEIC through its decoder), opened the same way (openPhoto turns
 * it upright from its EXIF), so the placeholder's shape is the thumbnail's.
 */

/** ThumbHash's own limit on its input. */
const MAX_SIDE = 100;
/** Like the decode check's: a hostile file cannot hold the pass for longer than this. */
const TIME_LIMIT_SECONDS = 30;

export interface PhotoDescription {
  /** The ThumbHash, base64. */
  readonly placeholder: string;
  /** The allowed photo info from the same picture's EXIF (for photos catalogued before info was kept). */
  readonly info: PhotoInfo;
}

/** Decodes the photo shrunk on load to at most 100×100 (a JPEG at 1/8 scale) and hashes its pixels. Throws when it does not decode. */
export async function describePhoto(bytes: Buffer, fileName: string): Promise<PhotoDescription> {
  const picture = pictureBytes(bytes, fileName);
  const metadata = await sharp(picture, IMAGE_INPUT_OPTIONS).metadata();
  const input = { ...IMAGE_INPUT_OPTIONS, sequentialRead: true, timeoutMs: TIME_LIMIT_SECONDS * 1000 };
  const photo = await openPhoto(picture, needsHeicDecoder(metadata) ? metadata : undefined, input);
  const { data, info } = await photo
    .timeout({ seconds: TIME_LIMIT_SECONDS })
    .resize(MAX_SIDE, MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
    // Grey, CMYK and 16-bit sources all become the 8-bit RGBA ThumbHash expects.
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`expected RGBA pixels, got ${info.channels} channels`);
  const hash = rgbaToThumbHash(info.width, info.height, data);
  return { placeholder: Buffer.from(hash).toString('base64'), info: exifFacts(metadata.exif).info };
}
