/*
 * The photo info the viewer may show, and nothing else: the one allow-list. EXIF carries far
 * more than a family should hand to every key holder (GPS, the owner's name, serial numbers that
 * tie photos to one camera, free-text descriptions that often hold an address, maker notes), so
 * fields are picked here by name, never copied wholesale. Every value is checked as it comes in
 * (from EXIF) and again as it comes out of the catalogue, so a hostile file cannot put markup,
 * control characters or absurd numbers in front of a visitor. Date taken and pixel size are
 * catalogued elsewhere (exif-facts.ts, metadata.ts).
 */

/** The allowed facts, raw and typed: formatting for display is the UI's job. */
export interface PhotoInfo {
  /** Make and model as one name ("Canon EOS R6"), the make not repeated. */
  readonly camera?: string;
  readonly lens?: string;
  readonly exposureSeconds?: number;
  readonly fNumber?: number;
  readonly iso?: number;
  readonly focalLengthMm?: number;
  readonly focalLength35mm?: number;
}

/** Real camera and lens names are far shorter; anything longer is not a name. */
export const MAX_TEXT_LENGTH = 64;

/**
 * Letters, digits, punctuation, symbols and plain spaces only: no control or format characters
 * (NUL, newlines, bidirectional overrides), no private-use or unassigned code points.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]+$/u;
/** Never in a camera or lens name, and what markup or a quoted attribute would need. */
const MARKUP = /[<>"'`\\]/;

interface Range {
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
}

/** What a real camera can write; outside these the value is dropped, not clamped. */
const RANGES = {
  // 1/1,000,000 s (electronic shutters) up to an hour (astrophotography).
  exposureSeconds: { min: 1e-6, max: 3600 },
  fNumber: { min: 0.5, max: 128 },
  iso: { min: 1, max: 10_000_000, integer: true },
  focalLengthMm: { min: 0.1, max: 5000 },
  focalLength35mm: { min: 1, max: 10_000, integer: true },
} as const satisfies Record<string, Range>;

type NumberField = keyof typeof RANGES;
const TEXT_FIELDS = ['camera', 'lens'] as const;

/** EXIF ISOSpeedRatings is 16 bits: cameras write this when the real value is in ISOSpeed. */
const ISO_OVERFLOW = 65_535;

/** A trimmed, printable, short string with runs of spaces collapsed; undefined for anything else. */
export function cleanText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/\p{Zs}+/gu, ' ').trim();
  if (text === '' || text.length > MAX_TEXT_LENGTH || !PRINTABLE.test(text) || MARKUP.test(text)) return undefined;
  return text;
}

/** A finite number within `range` (an integer where it must be); undefined for anything else. */
export function cleanNumber(value: unknown, range: Range): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (value < range.min || value > range.max) return undefined;
  if (range.integer === true && !Number.isInteger(value)) return undefined;
  return value;
}

/**
 * Only the allowed fields of `candidate`, each checked: the gate for what EXIF gives and for
 * what the catalogue hands back (a row written by another version is held to the same rules).
 */
export function allowedPhotoInfo(candidate: Readonly<Record<string, unknown>>): PhotoInfo {
  const info: Record<string, string | number> = {};
  for (const field of TEXT_FIELDS) {
    const text = cleanText(candidate[field]);
    if (text !== undefined) info[field] = text;
  }
  for (const field of Object.keys(RANGES) as NumberField[]) {
    const number = cleanNumber(candidate[field], RANGES[field]);
    if (number !== undefined) info[field] = number;
  }
  return info as PhotoInfo;
}

/** Corporate suffixes some makes carry ("NIKON CORPORATION", "OLYMPUS IMAGING CORP."). */
const MAKE_SUFFIX = /\s+(imaging\s+)?(corporation|corp\.?|company|co\.,?\s*ltd\.?|inc\.?)$/i;

/** "Canon" + "Canon EOS R6" → "Canon EOS R6"; "SONY" + "ILCE-7M3" → "SONY ILCE-7M3". */
export function cameraName(make: unknown, model: unknown): string | undefined {
  const cleanModel = cleanText(model);
  const cleanMake = cleanText(make)?.replace(MAKE_SUFFIX, '');
  if (cleanMake === undefined || cleanMake === '') return cleanModel;
  if (cleanModel === undefined) return cleanMake;
  const brand = cleanMake.split(' ')[0]!.toLowerCase();
  if (cleanModel.toLowerCase().startsWith(brand)) return cleanModel;
  return cleanText(`${cleanMake} ${cleanModel}`) ?? cleanModel;
}

function firstNumber(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function isoOf(photo: Readonly<Record<string, unknown>>): unknown {
  const ratings = firstNumber(photo['ISOSpeedRatings']);
  if (ratings === ISO_OVERFLOW && typeof photo['ISOSpeed'] === 'number') return photo['ISOSpeed'];
  return ratings ?? photo['ISOSpeed'];
}

/** From an EXIF block as exif-reader parsed it (`Image` is IFD0, `Photo` the EXIF IFD). */
export function photoInfoFromExif(parsed: { readonly Image?: object; readonly Photo?: object }): PhotoInfo {
  const image = (parsed.Image ?? {}) as Readonly<Record<string, unknown>>;
  const photo = (parsed.Photo ?? {}) as Readonly<Record<string, unknown>>;
  return allowedPhotoInfo({
    camera: cameraName(image['Make'], image['Model']),
    lens: photo['LensModel'],
    exposureSeconds: photo['ExposureTime'],
    fNumber: photo['FNumber'],
    iso: isoOf(photo),
    focalLengthMm: photo['FocalLength'],
    // 0 means "unknown" in EXIF; the range drops it.
    focalLength35mm: firstNumber(photo['FocalLengthIn35mmFilm']),
  });
}

/** The catalogue's JSON text of an info, or undefined when the text is not an object (an old or damaged row). */
export function photoInfoFromJson(text: string): PhotoInfo | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined; // not JSON: shown without info
    throw error;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? allowedPhotoInfo(parsed as Record<string, unknown>) : undefined;
}

export function isEmptyInfo(info: PhotoInfo | undefined): boolean {
  return info === undefined || Object.keys(info).length === 0;
}

export function samePhotoInfo(a: PhotoInfo | undefined, b: PhotoInfo | undefined): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
}
