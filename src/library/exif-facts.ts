import exifReader from 'exif-reader';
import { photoInfoFromExif, type PhotoInfo } from './photo-info.js';

/*
 * What the catalogue takes from a photo's EXIF: when it was taken, where, and the allowed photo
 * info (photo-info.ts). The block is parsed once per photo. Broken EXIF never makes a photo
 * unreadable: it only loses its date, place or info.
 */

/** Where a photo was taken, in decimal degrees. */
export interface Position {
  readonly latitude: number;
  readonly longitude: number;
}

export interface ExifFacts {
  /** Epoch ms of DateTimeOriginal, when present and plausible. */
  readonly takenAt: number | undefined;
  /** From GPS, shown only to keys whose location policy allows it. */
  readonly position: Position | undefined;
  /** Camera, lens and exposure, from the allow-list only; empty when none is there. */
  readonly info: PhotoInfo;
}

/** The earliest date taken we believe: cameras with an unset clock write 0000:00:00. */
const EARLIEST_TAKEN_AT = Date.UTC(1900, 0, 1);

const NONE: ExifFacts = { takenAt: undefined, position: undefined, info: {} };

function offsetMs(offset: unknown): number {
  const match = typeof offset === 'string' ? /^([+-])(\d{2}):(\d{2})$/.exec(offset.trim()) : null;
  if (match === null) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === '-' ? -minutes : minutes) * 60_000;
}

/**
 * EXIF DateTimeOriginal is a wall-clock time without a zone; exif-reader reads it as UTC.
 * When the camera also wrote OffsetTimeOriginal ('+02:00') the true instant is used.
 */
function takenAtOf(photo: { DateTimeOriginal?: unknown; OffsetTimeOriginal?: unknown } | undefined): number | undefined {
  const original = photo?.DateTimeOriginal;
  if (!(original instanceof Date)) return undefined;
  const takenAt = original.getTime() - offsetMs(photo?.OffsetTimeOriginal);
  return Number.isFinite(takenAt) && takenAt >= EARLIEST_TAKEN_AT ? takenAt : undefined;
}

function degreesOf(value: unknown, reference: unknown, negative: string): number | undefined {
  const parts = Array.isArray(value) ? value.map(Number) : [];
  if (parts.length !== 3 || parts.some((part) => !Number.isFinite(part))) return undefined;
  const degrees = parts[0]! + parts[1]! / 60 + parts[2]! / 3600;
  return reference === negative ? -degrees : degrees;
}

/** GPS as decimal degrees, when whole and plausible. */
function positionOf(gps: Record<string, unknown> | undefined): Position | undefined {
  const latitude = degreesOf(gps?.['GPSLatitude'], gps?.['GPSLatitudeRef'], 'S');
  const longitude = degreesOf(gps?.['GPSLongitude'], gps?.['GPSLongitudeRef'], 'W');
  if (latitude === undefined || longitude === undefined || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return undefined;
  return { latitude, longitude };
}

/** Date taken, place and photo info from an EXIF block (as sharp's metadata() hands it over), parsed once. */
export function exifFacts(exif: Buffer | undefined): ExifFacts {
  if (exif === undefined) return NONE;
  let parsed;
  try {
    parsed = exifReader(exif);
  } catch {
    return NONE; // malformed EXIF block: the file's mtime stands in for the date
  }
  return {
    takenAt: takenAtOf(parsed.Photo),
    position: positionOf(parsed.GPSInfo as Record<string, unknown> | undefined),
    info: photoInfoFromExif(parsed),
  };
}
