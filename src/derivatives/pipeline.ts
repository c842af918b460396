import { isSelfOrienting, needsHeicDecoder, openPhoto, sharp, type PhotoInput, type Sharp } from '../decoders.js';
import { DerivativeError } from './errors.js';
import type { EncoderSettings } from './formats.js';
import type { Preset, Size } from './presets.js';

/**
 * The sharp stages, in order: read the header (shape), decode once into an sRGB, upright,
 * metadata-free raw image scaled just enough for the largest variant (base), then encode each
 * variant from that base in memory.
 */

export interface PipelineLimits {
  readonly limitInputPixels: number;
  /** Whole seconds for sharp's own timer (libvips checks it while pixels flow). */
  readonly timeoutSeconds: number;
}

/**
 * 'error' rejects truncated and corrupt data (a truncated JPEG fails with "premature end of
 * JPEG image") but lets through libjpeg's warnings about displayable files, such as "extraneous
 * bytes before marker" that some cameras and editors write, which sharp's default 'warning'
 * refuses. The pixel limit and the time limit bound what a hostile file can cost either way.
 */
const FAIL_ON = 'error' as const;

/** Width and height after EXIF orientation, and what the colour conversion needs. */
export interface SourceShape extends Size {
  /**
   * sharp processes 16-bit RGB with an embedded profile in Display P3 and, unless an output
   * profile is requested, casts to 8 bits without converting back: the colours stay P3. Such
   * sources get an explicit (unattached) sRGB output transform.
   */
  readonly needsSrgbTransform: boolean;
  /** A HEIC this sharp cannot decode: its pixels come from the HEIC decoder (decoders.ts). */
  readonly heic: boolean;
}

export interface RawImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

function inputOptions(limits: PipelineLimits): PhotoInput {
  return { failOn: FAIL_ON, limitInputPixels: limits.limitInputPixels, sequentialRead: true, timeoutMs: limits.timeoutSeconds * 1000 };
}

/**
 * Reads the header only: cheap, and refuses a decompression bomb before a single pixel with a
 * message that says how big it claims to be (sharp's own limit, which stays on for the decode,
 * only says "exceeds pixel limit").
 */
export async function readShape(bytes: Buffer, limits: PipelineLimits): Promise<SourceShape> {
  const metadata = await sharp(bytes, { failOn: FAIL_ON, limitInputPixels: false }).metadata();
  // HEIF turns its pixels itself as they decode: its size is already the upright one.
  const { width, height } = isSelfOrienting(metadata) ? metadata : (metadata.autoOrient ?? metadata);
  if (!(width > 0 && height > 0)) {
    throw new DerivativeError('UNREADABLE_SOURCE', `image has no size (${width}×${height})`);
  }
  if (width * height > limits.limitInputPixels) {
    throw new DerivativeError(
      'UNREADABLE_SOURCE',
      `image of ${width}×${height} exceeds the pixel limit of ${limits.limitInputPixels}`,
    );
  }
  return { width, height, needsSrgbTransform: metadata.hasProfile === true && metadata.space === 'rgb16', heic: needsHeicDecoder(metadata) };
}

/**
 * Decodes the original once: upright (EXIF orientation applied), shrunk on load towards `size`
 * (libjpeg's DCT scaling does most of the work), converted to 8-bit sRGB through the embedded
 * profile, and out as raw pixels, which carry no EXIF, XMP, IPTC or ICC at all.
 */
export async function decodeBase(
  bytes: Buffer,
  shape: SourceShape,
  size: Size,
  limits: PipelineLimits,
): Promise<RawImage> {
  let image = (await openPhoto(bytes, shape.heic ? shape : undefined, inputOptions(limits))).timeout({ seconds: limits.timeoutSeconds });
  if (size.width !== shape.width || size.height !== shape.height) {
    image = image.resize(size.width, size.height, { fit: 'fill' });
  }
  image = image.toColourspace('srgb');
  if (shape.needsSrgbTransform) image = image.withIccProfile('srgb', { attach: false });
  const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export interface VariantPlan {
  readonly preset: Preset;
  readonly size: Size;
}

const POSITIONS: Readonly<Record<Preset['position'], number | string>> = {
  attention: sharp.strategy.attention,
  entropy: sharp.strategy.entropy,
  centre: 'centre',
};

/** Resizes the base to the variant's exact size (or crop) and encodes it. */
export async function encodeVariant(
  base: RawImage,
  plan: VariantPlan,
  encoder: EncoderSettings,
  limits: PipelineLimits,
): Promise<Buffer> {
  const { width, height } = plan.size;
  let image = sharp(base.data, {
    raw: { width: base.width, height: base.height, channels: base.channels },
  }).timeout({ seconds: limits.timeoutSeconds });
  if (width !== base.width || height !== base.height) {
    // `fill` to the size variantOutputSize promised: the base is already in the right shape,
    // so this only removes rounding, and the result never depends on which base was used.
    image =
      plan.preset.fit === 'cover'
        ? image.resize(width, height, { fit: 'cover', position: POSITIONS[plan.preset.position] })
        : image.resize(width, height, { fit: 'fill' });
  }
  return encode(image, encoder).toBuffer();
}

function encode(image: Sharp, encoder: EncoderSettings): Sharp {
  switch (encoder.format) {
    case 'webp':
      return image.webp({ quality: encoder.quality, effort: encoder.effort });
    case 'avif':
      return image.avif({ quality: encoder.quality, effort: encoder.effort });
    case 'jpeg':
      // JPEG has no alpha: a transparent PNG becomes white, not black.
      return image
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: encoder.quality, mozjpeg: true, progressive: true });
  }
}
