import type { ConfigSection } from '../config.js';
import { isVariantName, RESERVED_VARIANTS } from '../media-contract.js';

/**
 * Variant presets: what size and shape each derivative has. Pure data and arithmetic; the
 * sharp calls that carry them out live in pipeline.ts.
 */

/** `inside`: fit within width × height, keeping the aspect ratio. `cover`: fill the box and crop. */
export const FITS = ['inside', 'cover'] as const;
export type Fit = (typeof FITS)[number];

/** Where a `cover` crop keeps the picture; `attention` follows faces, skin and saturated detail. */
export const CROP_POSITIONS = ['attention', 'entropy', 'centre'] as const;
export type CropPosition = (typeof CROP_POSITIONS)[number];

/**
 * What a configuration may say about one preset: `size` sets width and height at once. For a
 * default variant the given fields override the default's (`{ "small": { "size": 800 } }`
 * stays a fit-inside preset); a new variant needs a size.
 */
export interface PresetInput {
  size?: number;
  width?: number;
  height?: number;
  fit?: Fit;
  position?: CropPosition;
}

/** A validated preset; every field present. */
export interface Preset {
  readonly width: number;
  readonly height: number;
  readonly fit: Fit;
  readonly position: CropPosition;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** The default variants, smallest first: the order the UI and the pre-generation use. */
export const DEFAULT_VARIANTS = ['thumb', 'small', 'medium', 'large'] as const;
export type DefaultVariant = (typeof DEFAULT_VARIANTS)[number];

export const DEFAULT_PRESETS: Readonly<Record<DefaultVariant, Preset>> = Object.freeze({
  thumb: Object.freeze({ width: 320, height: 320, fit: 'cover', position: 'attention' }),
  small: Object.freeze({ width: 640, height: 640, fit: 'inside', position: 'centre' }),
  medium: Object.freeze({ width: 1280, height: 1280, fit: 'inside', position: 'centre' }),
  large: Object.freeze({ width: 2048, height: 2048, fit: 'inside', position: 'centre' }),
});

/** WebP cannot encode more than 16383 px a side; 8192 is far beyond any screen. */
export const MAX_PRESET_EDGE = 8192;

export function invalidParameter(name: string, expected: string, received: unknown): TypeError {
  const shown = typeof received === 'string' ? JSON.stringify(received) : String(received);
  return new TypeError(`Expected ${expected} for ${name} but received ${shown} of type ${typeof received}`);
}

function isEdge(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_PRESET_EDGE;
}

export function validatePreset(name: string, input: unknown, base?: Preset): Preset {
  // The grammar media URLs route on, so a preset name that validates also routes.
  if (!isVariantName(name) || RESERVED_VARIANTS.includes(name)) {
    throw invalidParameter('presets (variant name)', `a lower-case letter, then up to 31 lower-case letters, digits or '-' (not ${RESERVED_VARIANTS.join(' or ')})`, name);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidParameter(`presets.${name}`, 'an object { size | width and height, fit?, position? }', input);
  }
  const given = input as PresetInput;
  if (given.size !== undefined && !isEdge(given.size)) {
    throw invalidParameter(`presets.${name}.size`, `an integer 1–${MAX_PRESET_EDGE}`, given.size);
  }
  const {
    width = given.size ?? base?.width,
    height = given.size ?? base?.height,
    fit = base?.fit ?? 'inside',
    position = base?.position ?? 'centre',
  } = given;
  if (!isEdge(width)) throw invalidParameter(`presets.${name}.width`, `an integer 1–${MAX_PRESET_EDGE}`, width);
  if (!isEdge(height)) throw invalidParameter(`presets.${name}.height`, `an integer 1–${MAX_PRESET_EDGE}`, height);
  if (!FITS.includes(fit)) throw invalidParameter(`presets.${name}.fit`, `one of ${FITS.join(', ')}`, fit);
  if (!CROP_POSITIONS.includes(position)) {
    throw invalidParameter(`presets.${name}.position`, `one of ${CROP_POSITIONS.join(', ')}`, position);
  }
  // The crop position means nothing for `inside`; one spelling keeps cache names stable.
  return Object.freeze({ width, height, fit, position: fit === 'cover' ? position : 'centre' });
}

/**
 * The defaults overlaid with the configured presets: a name given replaces the default of the
 * same name or adds a variant; a name given as `undefined` removes a default.
 */
export function normalisePresets(input: Partial<Record<string, PresetInput>> | undefined): ReadonlyMap<string, Preset> {
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw invalidParameter('presets', 'an object of variant name → preset', input);
  }
  const presets = new Map<string, Preset>(Object.entries(DEFAULT_PRESETS));
  for (const [name, preset] of Object.entries(input ?? {})) {
    if (preset === undefined) presets.delete(name);
    else presets.set(name, validatePreset(name, preset, presets.get(name)));
  }
  if (presets.size === 0) throw invalidParameter('presets', 'at least one variant', input);
  return presets;
}

/**
 * The pixel size of a variant of a `width` × `height` image (already oriented). Never larger
 * than the original: `inside` scales down to fit the box; `cover` gives the box's shape,
 * shrunk when the original is smaller than the box (a 200×100 photo has a 100×100 thumb).
 */
export function variantOutputSize(width: number, height: number, preset: Preset): Size {
  if (!(width >= 1 && height >= 1)) throw invalidParameter('width and height', 'positive numbers', `${width}×${height}`);
  const scale =
    preset.fit === 'inside'
      ? Math.min(1, preset.width / width, preset.height / height)
      : Math.min(1, width / preset.width, height / preset.height);
  const [boxWidth, boxHeight] = preset.fit === 'inside' ? [width, height] : [preset.width, preset.height];
  return {
    width: Math.max(1, Math.min(width, Math.round(boxWidth * scale))),
    height: Math.max(1, Math.min(height, Math.round(boxHeight * scale))),
  };
}

/**
 * The one decoded image every requested variant can be made from: the original scaled just
 * enough to cover the largest of them (rounded up, never above the original).
 */
export function baseSizeFor(width: number, height: number, outputs: readonly Size[]): Size {
  const scale = Math.min(1, Math.max(0, ...outputs.map((size) => Math.max(size.width / width, size.height / height))));
  return {
    width: Math.min(width, Math.ceil(width * scale)),
    height: Math.min(height, Math.ceil(height * scale)),
  };
}

/** The variant names a configuration yields, in order: what URLs, views and server configs are made of. */
export function configuredVariants(overrides: Partial<Record<string, PresetInput>> | undefined): string[] {
  return [...normalisePresets(overrides).keys()];
}

/**
 * `presets` in the config file (or KEEPSAKE_PRESETS, as JSON), checked with every other setting
 * at start-up; the value is the overrides as given, which createDerivatives lays over the defaults.
 */
export const presetsSection: ConfigSection<Readonly<Record<string, PresetInput | undefined>>> = {
  env: 'KEEPSAKE_PRESETS',
  parse(raw) {
    const overrides = raw ?? {};
    try {
      normalisePresets(overrides as Partial<Record<string, PresetInput>>);
    } catch (error) {
      return { ok: false, problems: [(error as Error).message] };
    }
    return { ok: true, value: overrides as Readonly<Record<string, PresetInput | undefined>> };
  },
};
