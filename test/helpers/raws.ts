import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/*
 * Camera RAW files, built here byte by byte (no camera files are shipped or downloaded). Each
 * is laid out as its camera lays it out where keepsake looks: a TIFF directory with the
 * orientation, the make and the date (DNG, CR2, NEF, ARW; ORF with Olympus's own magic number),
 * a small thumbnail, the large JPEG preview, and "sensor data" that holds a lossless JPEG and
 * stray JPEG-like bytes. A RAF is Fujifilm's header followed by a preview JPEG carrying its own
 * EXIF; a CR3 is ISO media boxes with the preview inside. None of them has real sensor data:
 * keepsake never reads it.
 */

export type RawKind = 'dng' | 'cr2' | 'nef' | 'arw' | 'orf' | 'raf' | 'cr3';

export interface RawFixture {
  readonly kind: RawKind;
  /** The preview as stored (before orientation). */
  readonly width?: number;
  readonly height?: number;
  readonly colour?: string;
  /** EXIF orientation the camera wrote (1 upright, 6 turned a quarter clockwise …). */
  readonly orientation?: number;
  /** 'YYYY:MM:DD HH:MM:SS', as EXIF writes it. */
  readonly dateTimeOriginal?: string;
  /** Leave every JPEG out (preview and thumbnail): a RAW keepsake cannot show. */
  readonly withoutPreview?: boolean;
}

/** What a camera writes that no derivative may carry: the make, the model, the serial number. */
export const CAMERA_MAKE = 'KeepsakeCam';
export const CAMERA_SERIAL = 'SN-0042-PRIVATE';

async function jpeg(width: number, height: number, colour: string, exif?: { orientation: number; date: string | undefined }): Promise<Buffer> {
  let image = sharp({ create: { width, height, channels: 3, background: colour } }).jpeg({ quality: 85 });
  if (exif !== undefined) {
    image = image
      .withExif({ IFD0: { Make: CAMERA_MAKE }, IFD2: { BodySerialNumber: CAMERA_SERIAL, ...(exif.date === undefined ? {} : { DateTimeOriginal: exif.date }) } })
      .withMetadata({ orientation: exif.orientation });
  }
  return image.toBuffer();
}

/** Sensor data as far as a preview search is concerned: a lossless JPEG (how CR2 and DNG store it) and stray SOI-like bytes. */
function sensorData(): Buffer {
  const lossless = Buffer.from([0xff, 0xd8, 0xff, 0xc3, 0x00, 0x0b, 0x0e, 0x10, 0x00, 0x20, 0x00, 0x01, 0x00, 0x11, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00]);
  const noise = Buffer.from(Array.from({ length: 8192 }, (_, index) => (index * 37) % 256));
  return Buffer.concat([lossless, noise, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00]), noise, lossless, Buffer.from([0xff, 0xd9])]);
}

type Entry = { tag: number; type: 2; text: string } | { tag: number; type: 3 | 4; value: number } | { tag: number; type: 1; bytes: number[] };

/** A little-endian TIFF directory at `offset`, values after it; `next` is the next directory's offset. */
function directory(entries: readonly Entry[], offset: number, next = 0): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const head = Buffer.alloc(2 + sorted.length * 12 + 4);
  const values: Buffer[] = [];
  let valueOffset = offset + head.length;
  head.writeUInt16LE(sorted.length, 0);
  sorted.forEach((entry, index) => {
    const at = 2 + index * 12;
    head.writeUInt16LE(entry.tag, at);
    head.writeUInt16LE(entry.type, at + 2);
    if (entry.type === 2) {
      const text = Buffer.from(`${entry.text}\0`, 'latin1');
      head.writeUInt32LE(text.length, at + 4);
      if (text.length <= 4) text.copy(head, at + 8);
      else {
        head.writeUInt32LE(valueOffset, at + 8);
        values.push(text);
        valueOffset += text.length;
      }
    } else if (entry.type === 1) {
      head.writeUInt32LE(entry.bytes.length, at + 4);
      Buffer.from(entry.bytes).copy(head, at + 8);
    } else {
      head.writeUInt32LE(1, at + 4);
      if (entry.type === 3) head.writeUInt16LE(entry.value, at + 8);
      else head.writeUInt32LE(entry.value, at + 8);
    }
  });
  head.writeUInt32LE(next, 2 + sorted.length * 12);
  return Buffer.concat([head, ...values]);
}

/** TIFF-based RAW: header, IFD0 (make, orientation, the preview as a JPEG strip, the EXIF pointer), EXIF IFD, thumbnail, preview, sensor data. */
function tiffRaw(kind: RawKind, preview: Buffer | undefined, thumbnail: Buffer, fixture: RawFixture): Buffer {
  const magic = kind === 'orf' ? Buffer.from('IIRO\x08\0\0\0', 'latin1') : Buffer.from('II*\0\x08\0\0\0', 'latin1');
  const exifEntries: Entry[] = [{ tag: 0xa431, type: 2, text: CAMERA_SERIAL }];
  if (fixture.dateTimeOriginal !== undefined) exifEntries.push({ tag: 0x9003, type: 2, text: fixture.dateTimeOriginal });
  // Sizes first with placeholder offsets, then again with the real ones (the directory's size does not change).
  const build = (exifAt: number, thumbAt: number, previewAt: number) => {
    const entries: Entry[] = [
      { tag: 0x010f, type: 2, text: CAMERA_MAKE },
      { tag: 0x0112, type: 3, value: fixture.orientation ?? 1 },
      { tag: 0x0103, type: 3, value: 6 },
      { tag: 0x0201, type: 4, value: thumbAt },
      { tag: 0x0202, type: 4, value: thumbnail.length },
      { tag: 0x0111, type: 4, value: previewAt },
      { tag: 0x0117, type: 4, value: preview?.length ?? 0 },
      { tag: 0x8769, type: 4, value: exifAt },
    ];
    if (kind === 'dng') entries.push({ tag: 0xc612, type: 1, bytes: [1, 4, 0, 0] });
    return directory(entries, 8);
  };
  const ifd0Size = build(0, 0, 0).length;
  const exifAt = 8 + ifd0Size;
  const exif = directory(exifEntries, exifAt);
  const thumbAt = exifAt + exif.length;
  const previewAt = thumbAt + thumbnail.length;
  return Buffer.concat([magic, build(exifAt, thumbAt, previewAt), exif, thumbnail, preview ?? Buffer.alloc(0), sensorData()]);
}

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length + 8, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** Writes a RAW file of `fixture.kind` at `file`. */
export async function makeRaw(file: string, fixture: RawFixture): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const { width = 600, height = 400, colour = '#c03030' } = fixture;
  const thumbnail = fixture.withoutPreview ? Buffer.alloc(0) : await jpeg(160, 120, '#808080');
  let bytes: Buffer;
  if (fixture.kind === 'raf') {
    // Fujifilm: a fixed header naming the camera, then the preview JPEG with the camera's EXIF.
    const preview = fixture.withoutPreview ? Buffer.alloc(0) : await jpeg(width, height, colour, { orientation: fixture.orientation ?? 1, date: fixture.dateTimeOriginal });
    const header = Buffer.alloc(160);
    header.write(`FUJIFILMCCD-RAW 0201FF383501${CAMERA_MAKE}`, 0, 'latin1');
    header.writeUInt32BE(160, 84);
    header.writeUInt32BE(preview.length, 88);
    bytes = Buffer.concat([header, preview, sensorData()]);
  } else if (fixture.kind === 'cr3') {
    const preview = fixture.withoutPreview ? Buffer.alloc(0) : await jpeg(width, height, colour);
    const prvw = box('PRVW', Buffer.alloc(8), preview);
    bytes = Buffer.concat([box('ftyp', Buffer.from('crx \0\0\0\x01crx isom', 'latin1')), box('uuid', Buffer.alloc(16, 0x85), prvw), box('mdat', sensorData())]);
  } else {
    const preview = fixture.withoutPreview ? undefined : await jpeg(width, height, colour);
    bytes = tiffRaw(fixture.kind, preview, thumbnail, fixture);
  }
  await writeFile(file, bytes);
}
