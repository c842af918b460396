import { DERIVATIVE_FORMATS } from '../media-contract.js';
import { invalidParameter } from './presets.js';

export const OUTPUT_FORMATS = Object.keys(DERIVATIVE_FORMATS) as (keyof typeof DERIVATIVE_FORMATS)[];
export type OutputFormat = keyof typeof DERIVATIVE_FORMATS;

/** Everything about the encoder that changes the bytes; all of it goes into the cache name. */
export interface EncoderSettings {
  readonly format: OutputFormat;
  /** The file extension, also the last part of the URL leaf. */
  readonly extension: string;
  readonly quality: number;
  /** The encoder's CPU effort, or undefined where the format has no such knob (JPEG). */
  readonly effort: number | undefined;
}

/**
 * Defaults chosen for a small box (a 2-core x86, one libvips thread per image), measured on a
 * 2048×1536 photo with fine grain:
 *
 * - WebP q80 effort 2: ~160 ms and +4% bytes against ~320 ms at libwebp's default effort 4
 *   (effort 6 is ~1.6 s for 3% fewer bytes). Half the CPU for a few per cent is the right trade
 *   when the same box also serves pages.
 * - AVIF q50 effort 0: ~0.4 s, against ~1.3 s at effort 1, ~3.2 s at 2 and ~8.6 s at sharp's
 *   default 4, for ~5% more bytes than effort 4. Derivatives are made on demand while a visitor
 *   waits, so the fastest setting is the only one that keeps first views bearable.
 * - JPEG q80 with mozjpeg (trellis quantisation, progressive scans): ~0.58 s against ~0.11 s for
 *   plain libjpeg, for ~3–5% fewer bytes; kept because it is asked for and JPEG is the opt-in
 *   compatibility format, not the default.
 */
const FORMAT_DEFAULTS: Readonly<Record<OutputFormat, EncoderSettings>> = {
  webp: { format: 'webp', extension: DERIVATIVE_FORMATS.webp.extension, quality: 80, effort: 2 },
  avif: { format: 'avif', extension: DERIVATIVE_FORMATS.avif.extension, quality: 50, effort: 0 },
  jpeg: { format: 'jpeg', extension: DERIVATIVE_FORMATS.jpeg.extension, quality: 80, effort: undefined },
};

/** The encoder for `format`, with `quality` (1–100) overriding the format's own default. */
export function encoderFor(format: unknown = 'webp', quality?: unknown): EncoderSettings {
  if (!OUTPUT_FORMATS.includes(format as OutputFormat)) {
    throw invalidParameter('format', `one of ${OUTPUT_FORMATS.join(', ')}`, format);
  }
  const defaults = FORMAT_DEFAULTS[format as OutputFormat];
  if (quality === undefined) return defaults;
  if (!Number.isInteger(quality) || (quality as number) < 1 || (quality as number) > 100) {
    throw invalidParameter('quality', 'an integer 1–100', quality);
  }
  return { ...defaults, quality: quality as number };
}
