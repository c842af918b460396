import exifReader from 'exif-reader';
import { KeepsakeError } from './errors.js';

/*
 * A camera RAW file (DNG, CR2, CR3, NEF, ARW, RAF, ORF) carries the camera's own JPEG rendering
 * of the picture, usually at full or near-full size, for its screen. keepsake shows that
 * preview: it is what the photographer saw, and it needs no RAW developer. Every one of these
 * formats stores the preview as a plain baseline or progressive JPEG somewhere in the file, so
 * the preview is found the same way in all of them: each JPEG stream in the bytes is walked
 * marker by marker to its end, and the one with the most pixels wins. The RAW data itself is
 * lossless JPEG or not JPEG at all, and is never taken. The pipeline then treats the preview
 * like any JPEG (auto-oriented, sRGB, every byte of metadata stripped).
 *
 * A preview rarely carries the camera's orientation and date; the RAW's own TIFF directory does
 * (all but CR3). Those two facts, and nothing else, are written into a small EXIF block in front
 * of the preview, so the catalogue and the pipeline read them as from any JPEG.
 */

const SOI = Buffer.from([0xff, 0xd8, 0xff]);
/** Start-of-frame markers of the JPEGs a browser shows: baseline, extended, progressive (Huffman). */
const PICTURE_FRAMES = new Set([0xc0, 0xc1, 0xc2]);
/** Lossless and arithmetic-coded frames: a RAW's sensor data, never a preview. */
const OTHER_FRAMES = new Set([0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
/** A walk gives up after this many segments: no real JPEG has nearly so many. */
const MAX_SEGMENTS = 4096;

interface EmbeddedJpeg {
  readonly start: number;
  readonly end: number;
  readonly pixels: number;
  readonly hasExif: boolean;
}

/** The entropy-coded data after a scan header ends at the first marker that is not a stuffed byte or a restart. */
function scanEnd(bytes: Buffer, from: number): number {
  for (let at = bytes.indexOf(0xff, from); at !== -1 && at + 1 < bytes.length; at = bytes.indexOf(0xff, at + 1)) {
    const next = bytes[at + 1]!;
    if (next !== 0x00 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) return at;
  }
  return -1;
}

/** The JPEG stream starting at `start`, walked to its end; undefined when it is not a whole picture JPEG. */
function jpegAt(bytes: Buffer, start: number): EmbeddedJpeg | undefined {
  let at = start + 2;
  let pixels = 0;
  let scanned = false;
  let hasExif = false;
  for (let segments = 0; segments < MAX_SEGMENTS && at + 4 <= bytes.length; segments += 1) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) return pixels > 0 && scanned ? { start, end: at + 2, pixels, hasExif } : undefined;
    const length = bytes.readUInt16BE(at + 2);
    if (length < 2 || at + 2 + length > bytes.length) return undefined;
    if (OTHER_FRAMES.has(marker)) return undefined;
    if (PICTURE_FRAMES.has(marker)) {
      const [precision, components] = [bytes[at + 4], bytes[at + 9]];
      if (precision !== 8 || (components !== 1 && components !== 3)) return undefined;
      pixels = bytes.readUInt16BE(at + 5) * bytes.readUInt16BE(at + 7);
    }
    if (marker === 0xe1 && bytes.toString('latin1', at + 4, at + 10) === 'Exif\0\0') hasExif = true;
    if (marker === 0xda) {
      scanned = true;
      const end = scanEnd(bytes, at + 2 + length);
      if (end === -1) return undefined;
      at = end;
      continue;
    }
    at += 2 + length;
  }
  return undefined;
}

/** The largest picture JPEG inside `bytes` (a RAW file), or undefined when there is none. */
export function largestEmbeddedJpeg(bytes: Buffer): { readonly bytes: Buffer; readonly hasExif: boolean } | undefined {
  let best: EmbeddedJpeg | undefined;
  for (let at = bytes.indexOf(SOI); at !== -1; ) {
    const found = jpegAt(bytes, at);
    if (found !== undefined && found.pixels > (best?.pixels ?? 0)) best = found;
    // Past a whole JPEG (and the thumbnail inside its EXIF), else just past this false start.
    at = bytes.indexOf(SOI, found === undefined ? at + 1 : found.end);
  }
  return best === undefined ? undefined : { bytes: bytes.subarray(best.start, best.end), hasExif: best.hasExif };
}

/** What the preview needs from the RAW's own TIFF directory. */
export interface RawFacts {
  readonly orientation: number | undefined;
  /** EXIF DateTimeOriginal as written (wall clock), and its offset when the camera wrote one. */
  readonly dateTimeOriginal: string | undefined;
  readonly offsetTimeOriginal: string | undefined;
}

const NO_FACTS: RawFacts = { orientation: undefined, dateTimeOriginal: undefined, offsetTimeOriginal: undefined };

function exifDate(date: unknown): string | undefined {
  if (!(date instanceof Date) || !Number.isFinite(date.getTime())) return undefined;
  // exif-reader reads the wall clock as UTC; written back the same way, it is the same wall clock.
  return date.toISOString().slice(0, 19).replace(/-/g, ':').replace('T', ' ');
}

/** Orientation and date from a TIFF-based RAW (Olympus's ORF only changes the magic number); nothing for the rest. */
export function rawFactsFrom(bytes: Buffer): RawFacts {
  const order = bytes.toString('latin1', 0, 2);
  if (bytes.length < 16 || (order !== 'II' && order !== 'MM')) return NO_FACTS;
  const magic = order === 'II' ? 0x2a : 0x2a00;
  let tiff = bytes.subarray(0, Math.min(bytes.length, 4 * 1024 * 1024));
  if (tiff.readUInt16LE(2) !== magic) {
    // Olympus's 'IIRO' / 'IIRS' / 'MMOR': a copy of the directory's part, read as plain TIFF.
    tiff = Buffer.from(tiff);
    tiff.writeUInt16LE(magic, 2);
  }
  try {
    const { Image, Photo } = exifReader(tiff);
    const orientation = Number(Image?.Orientation);
    const offset = Photo?.OffsetTimeOriginal;
    return {
      orientation: Number.isInteger(orientation) && orientation >= 1 && orientation <= 8 ? orientation : undefined,
      dateTimeOriginal: exifDate(Photo?.DateTimeOriginal),
      offsetTimeOriginal: typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset.trim()) ? offset.trim() : undefined,
    };
  } catch {
    return NO_FACTS; // a directory exif-reader cannot follow: the preview as it is
  }
}

type Entry = { tag: number; type: 3 | 4; value: number } | { tag: number; type: 2; text: string };

/** A little-endian TIFF directory at `offset` with its text values after it; returns the bytes. */
function directory(entries: readonly Entry[], offset: number): Buffer {
  const head = Buffer.alloc(2 + entries.length * 12 + 4);
  const texts: Buffer[] = [];
  let textOffset = offset + head.length;
  head.writeUInt16LE(entries.length, 0);
  entries.forEach((entry, index) => {
    const at = 2 + index * 12;
    head.writeUInt16LE(entry.tag, at);
    head.writeUInt16LE(entry.type, at + 2);
    if (entry.type === 2) {
      const text = Buffer.from(`${entry.text}\0`, 'latin1');
      head.writeUInt32LE(text.length, at + 4);
      head.writeUInt32LE(textOffset, at + 8);
      texts.push(text);
      textOffset += text.length;
    } else {
      head.writeUInt32LE(1, at + 4);
      if (entry.type === 3) head.writeUInt16LE(entry.value, at + 8);
      else head.writeUInt32LE(entry.value, at + 8);
    }
  });
  return Buffer.concat([head, ...texts]);
}

/** An APP1 EXIF segment holding only these facts (orientation; date taken and its offset). */
export function exifSegment(facts: RawFacts): Buffer | undefined {
  const dated: Entry[] = [];
  if (facts.dateTimeOriginal !== undefined) dated.push({ tag: 0x9003, type: 2, text: facts.dateTimeOriginal });
  if (facts.offsetTimeOriginal !== undefined) dated.push({ tag: 0x9011, type: 2, text: facts.offsetTimeOriginal });
  if (facts.orientation === undefined && dated.length === 0) return undefined;
  const first: Entry[] = facts.orientation === undefined ? [] : [{ tag: 0x0112, type: 3, value: facts.orientation }];
  const ifd0Size = 2 + (first.length + (dated.length > 0 ? 1 : 0)) * 12 + 4;
  if (dated.length > 0) first.push({ tag: 0x8769, type: 4, value: 8 + ifd0Size });
  const tiff = Buffer.concat([Buffer.from('II*\0\x08\0\0\0', 'latin1'), directory(first, 8), ...(dated.length > 0 ? [directory(dated, 8 + ifd0Size)] : [])]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const marker = Buffer.from([0xff, 0xe1, 0, 0]);
  marker.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([marker, body]);
}

export class NoRawPreviewError extends KeepsakeError {
  constructor(message: string) {
    super('NO_RAW_PREVIEW', message);
  }
}

/** The picture keepsake shows for a RAW file: its largest embedded JPEG, with the RAW's orientation and date when it has none of its own. */
export function rawPreview(bytes: Buffer): Buffer {
  const preview = largestEmbeddedJpeg(bytes);
  if (preview === undefined) throw new NoRawPreviewError('no embedded JPEG preview in this RAW file');
  const exif = preview.hasExif ? undefined : exifSegment(rawFactsFrom(bytes));
  return exif === undefined ? Buffer.from(preview.bytes) : Buffer.concat([preview.bytes.subarray(0, 2), exif, preview.bytes.subarray(2)]);
}
