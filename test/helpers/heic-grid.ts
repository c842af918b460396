import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

/*
 * A HEIC laid out as an iPhone writes it: a `grid` image made of 512 px HEVC tiles, each tile a
 * hidden image of its own. Debian's heif-enc (1.15) writes only single pictures, so each tile is
 * encoded by heif-enc and the tiles are put together here, box by box (ISO/IEC 23008-12).
 */

const run = promisify(execFile);
const TILE = 512;

interface Box {
  readonly type: string;
  readonly body: number;
  readonly end: number;
}

function boxesIn(bytes: Buffer, start: number, end: number): Box[] {
  const found: Box[] = [];
  for (let at = start; at + 8 <= end; ) {
    const size = bytes.readUInt32BE(at);
    found.push({ type: bytes.toString('latin1', at + 4, at + 8), body: at + 8, end: at + size });
    at += size;
  }
  return found;
}

function child(bytes: Buffer, parent: Box, type: string, skip = 0): Box {
  const box = boxesIn(bytes, parent.body + skip, parent.end).find((candidate) => candidate.type === type);
  if (box === undefined) throw new Error(`heif-enc wrote no ${type} box`);
  return box;
}

/** The hvcC box and the coded picture of heif-enc's single image. */
function tileOf(bytes: Buffer): { hvcC: Buffer; data: Buffer } {
  const meta = child(bytes, { type: 'file', body: 0, end: bytes.length }, 'meta');
  const ipco = child(bytes, child(bytes, meta, 'iprp', 4), 'ipco');
  const hvcC = child(bytes, ipco, 'hvcC');
  const iloc = child(bytes, meta, 'iloc', 4);
  let at = iloc.body;
  const version = bytes[at]!;
  at += 4;
  const sizes = bytes.readUInt16BE(at);
  at += 2;
  const [offsetSize, lengthSize, baseSize, indexSize] = [sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15, version >= 1 ? sizes & 15 : 0];
  const read = (size: number): number => {
    let value = 0;
    for (let index = 0; index < size; index += 1) value = value * 256 + bytes[at++]!;
    return value;
  };
  const items = read(2);
  for (let item = 0; item < items; item += 1) {
    const id = read(2);
    if (version >= 1) read(2);
    read(2);
    const base = read(baseSize);
    const extents: Buffer[] = [];
    for (let count = read(2); count > 0; count -= 1) {
      read(indexSize);
      const offset = base + read(offsetSize);
      extents.push(bytes.subarray(offset, offset + read(lengthSize)));
    }
    if (id === 1) return { hvcC: bytes.subarray(hvcC.body - 8, hvcC.end), data: Buffer.concat(extents) };
  }
  throw new Error('heif-enc wrote no image 1');
}

const u16 = (value: number): Buffer => Buffer.from([value >> 8, value & 255]);
const u32 = (value: number): Buffer => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
};
const box = (type: string, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(body.length + 8), Buffer.from(type, 'latin1'), body]);
};
const fullBox = (type: string, version: number, flags: number, ...parts: Buffer[]): Buffer => box(type, Buffer.from([version, 0, 0, flags]), ...parts);

/**
 * Writes `picture` (PNG or JPEG bytes) as a grid HEIC of 512 px tiles; returns its bytes. With
 * `visibleTiles` the tiles are not hidden, so the file holds many top-level pictures besides the grid.
 */
export async function makeGridHeic(picture: Buffer, scratch: string, heifEnc: string, options: { visibleTiles?: boolean } = {}): Promise<Buffer> {
  const { width, height } = await sharp(picture).metadata();
  const columns = Math.ceil(width / TILE);
  const rows = Math.ceil(height / TILE);
  const padded = await sharp(picture).extend({ right: columns * TILE - width, bottom: rows * TILE - height, extendWith: 'copy' }).png().toBuffer();
  const tiles: Array<{ hvcC: Buffer; data: Buffer }> = [];
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      const png = path.join(scratch, `tile-${row}-${column}.png`);
      const heic = path.join(scratch, `tile-${row}-${column}.heic`);
      await sharp(padded).extract({ left: column * TILE, top: row * TILE, width: TILE, height: TILE }).png().toFile(png);
      await run(heifEnc, ['-q', '85', '-o', heic, png]);
      tiles.push(tileOf(await readFile(heic)));
    }
  }
  const GRID = 1;
  const tileId = (index: number): number => index + 2;
  const itemInfo = (id: number, type: string, hidden: boolean): Buffer => fullBox('infe', 2, hidden ? 1 : 0, u16(id), u16(0), Buffer.from(`${type}\0`, 'latin1'));
  const iinf = fullBox('iinf', 0, 0, u16(tiles.length + 1), itemInfo(GRID, 'grid', false), ...tiles.map((_, index) => itemInfo(tileId(index), 'hvc1', options.visibleTiles !== true)));
  const iref = fullBox('iref', 0, 0, box('dimg', u16(GRID), u16(tiles.length), ...tiles.map((_, index) => u16(tileId(index)))));
  const spatialExtent = (w: number, h: number): Buffer => fullBox('ispe', 0, 0, u32(w), u32(h));
  // Properties, numbered from 1: the grid's size, the tiles' size, then each tile's decoder configuration.
  const ipco = box('ipco', spatialExtent(width, height), spatialExtent(TILE, TILE), ...tiles.map((tile) => tile.hvcC));
  const ipma = fullBox(
    'ipma', 0, 0, u32(tiles.length + 1),
    u16(GRID), Buffer.from([1, 0x01]),
    ...tiles.map((_, index) => Buffer.concat([u16(tileId(index)), Buffer.from([2, 0x02, 0x80 | (index + 3)])])),
  );
  const gridDescription = Buffer.concat([Buffer.from([0, 0, rows - 1, columns - 1]), u16(width), u16(height)]);
  const ftyp = box('ftyp', Buffer.from('heic', 'latin1'), u32(0), Buffer.from('mif1heicmiaf', 'latin1'));
  const metaAt = (mdatStart: number): Buffer => {
    // iloc version 1, 4-byte offsets and lengths: the grid description in idat (construction method 1), the tiles in mdat.
    let offset = mdatStart + 8;
    const locations = [Buffer.concat([u16(GRID), u16(1), u16(0), u16(1), u32(0), u32(gridDescription.length)])];
    for (const [index, tile] of tiles.entries()) {
      locations.push(Buffer.concat([u16(tileId(index)), u16(0), u16(0), u16(1), u32(offset), u32(tile.data.length)]));
      offset += tile.data.length;
    }
    return fullBox(
      'meta', 0, 0,
      fullBox('hdlr', 0, 0, u32(0), Buffer.from('pict', 'latin1'), Buffer.alloc(13)),
      fullBox('pitm', 0, 0, u16(GRID)),
      iinf, iref, box('iprp', ipco, ipma), box('idat', gridDescription),
      fullBox('iloc', 1, 0, Buffer.from([0x44, 0x00]), u16(tiles.length + 1), ...locations),
    );
  };
  const meta = metaAt(ftyp.length + metaAt(0).length);
  return Buffer.concat([ftyp, meta, box('mdat', ...tiles.map((tile) => tile.data))]);
}
