import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { HeicDecodeError, heicDecoders } from '../src/decoders.js';
import { Client } from './helpers/client.js';
import { tempDir } from './helpers/fixtures.js';
import { albumItems, familyAndViewer } from './helpers/albums.js';
import { makeGridHeic } from './helpers/heic-grid.js';
import type { TestServer } from './helpers/server.js';

/*
 * iPhone photos: HEIC, made here with Debian's heif-enc (libheif-examples) from a JPEG that
 * carries a date taken and a GPS position. The picture is red on its left third and blue on the
 * rest, portrait, so a derivative that is turned, mirrored or stretched shows it.
 */

const HEIF_ENC = '/usr/bin/heif-enc';
const missing = existsSync(HEIF_ENC) ? undefined : `${HEIF_ENC} is not installed (Debian package libheif-examples)`;
const run = promisify(execFile);

const PASSWORD = 'grandparents password';
const VIEWER = 'viewer without originals';
const WIDTH = 600;
const HEIGHT = 900;
const TAKEN = '2023:08:14 17:30:05';

/** A HEIC of WIDTH×HEIGHT, red left third, blue right, with EXIF DateTimeOriginal and GPS. */
async function makeHeic(file: string, scratch: string): Promise<void> {
  const left = await sharp({ create: { width: WIDTH / 3, height: HEIGHT, channels: 3, background: '#d01010' } }).png().toBuffer();
  const jpeg = path.join(scratch, `${path.basename(file)}.jpg`);
  await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: '#1030d0' } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 92 })
    .withExif({
      IFD0: { Make: 'Apple', Model: 'iPhone 15' },
      IFD2: { DateTimeOriginal: TAKEN },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4000/100' },
    })
    .toFile(jpeg);
  await run(HEIF_ENC, ['-q', '85', '-o', file, jpeg]);
}

/** Mean colour of a small square at (x, y), as fractions of the width and height. */
async function colourAt(bytes: Buffer, x: number, y: number): Promise<{ r: number; g: number; b: number }> {
  const image = sharp(bytes);
  const { width, height } = await image.metadata();
  const size = Math.max(2, Math.floor(Math.min(width, height) / 10));
  const { data } = await image
    .extract({ left: Math.floor(width * x - size / 2), top: Math.floor(height * y - size / 2), width: size, height: size })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let r = 0;
  let g = 0;
  let b = 0;
  for (let index = 0; index < data.length; index += 3) {
    r += data[index]!;
    g += data[index + 1]!;
    b += data[index + 2]!;
  }
  const pixels = data.length / 3;
  return { r: r / pixels, g: g / pixels, b: b / pixels };
}

function assertRedThenBlue(left: { r: number; b: number }, right: { r: number; b: number }, what: string): void {
  assert.ok(left.r > 150 && left.b < 90, `${what}: the left third is red (${JSON.stringify(left)})`);
  assert.ok(right.b > 150 && right.r < 90, `${what}: the right is blue (${JSON.stringify(right)})`);
}



const HOSTILE_NAME = '--help; $(touch pwned) `id` \'q\'.heic';

describe('HEIC photos', { skip: process.env['CI'] ? false : missing }, () => {
  let server: TestServer;
  let family: Client;
  let viewer: Client;
  let heic: Buffer;
  let scratch: string;

  before(async () => {
    scratch = await tempDir('keepsake-heic-');
    const mediaRoot = await tempDir('keepsake-media-');
    await mkdir(path.join(mediaRoot, 'Phone'), { recursive: true });
    const photo = path.join(mediaRoot, 'Phone', 'IMG_0001.HEIC');
    await makeHeic(photo, scratch);
    heic = await readFile(photo);
    await writeFile(path.join(mediaRoot, 'Phone', HOSTILE_NAME), heic);
    // The container and its header are whole; the HEVC picture stops halfway.
    await writeFile(path.join(mediaRoot, 'Phone', 'IMG_0002.heic'), heic.subarray(0, Math.floor(heic.length * 0.6)));
    ({ server, family, viewer } = await familyAndViewer(mediaRoot, { family: PASSWORD, viewer: VIEWER }));
  });
  after(() => server?.close());

  it('lists a HEIC as a photo with its upright size and the date it was taken', async () => {
    const item = (await albumItems(family, 'Phone')).find((entry) => entry.name === 'IMG_0001.HEIC');
    assert.ok(item, 'IMG_0001.HEIC is listed');
    assert.equal(item.type, 'image');
    assert.deepEqual([item.width, item.height], [WIDTH, HEIGHT]);
    assert.equal(item.takenAt, '2023-08-14T17:30:05.000Z');
    assert.deepEqual(Object.keys(item.urls).sort(), ['large', 'medium', 'original', 'small', 'thumb']);
  });

  it('serves every derivative upright, in its shape and colours, with no byte of metadata', async () => {
    const item = (await albumItems(viewer, 'Phone')).find((entry) => entry.name === 'IMG_0001.HEIC')!;
    for (const variant of ['thumb', 'small', 'medium', 'large']) {
      const response = await viewer.get(item.urls[variant]!);
      assert.equal(response.status, 200, `${variant}: ${response.status}`);
      const bytes = Buffer.from(await response.arrayBuffer());
      const metadata = await sharp(bytes).metadata();
      assert.equal(metadata.format, 'webp', variant);
      assert.equal(metadata.exif, undefined, `${variant} has no EXIF`);
      assert.equal(metadata.icc, undefined, `${variant} has no ICC profile`);
      assert.equal(metadata.xmp, undefined, `${variant} has no XMP`);
      for (const marker of ['Exif', 'GPS', 'iPhone', 'Apple', '2023:08:14']) {
        assert.equal(bytes.indexOf(marker), -1, `${variant} holds no "${marker}"`);
      }
      if (variant !== 'thumb') {
        assert.ok(Math.abs(metadata.width / metadata.height - WIDTH / HEIGHT) < 0.02, `${variant} keeps the portrait shape: ${metadata.width}×${metadata.height}`);
      }
      assertRedThenBlue(await colourAt(bytes, 0.12, 0.5), await colourAt(bytes, 0.85, 0.5), variant);
    }
  });

  it('keeps the .heic itself as the original download, for keys that allow originals only', async () => {
    const item = (await albumItems(family, 'Phone')).find((entry) => entry.name === 'IMG_0001.HEIC')!;
    const response = await family.get(item.urls['original']!);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/heic');
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(heic), 'the original bytes, untouched');
    const viewerItem = (await albumItems(viewer, 'Phone')).find((entry) => entry.name === 'IMG_0001.HEIC')!;
    assert.equal(viewerItem.urls['original'], undefined);
  });

  it('decodes a HEIC whose name would mean something to a shell or to the decoder', async () => {
    const item = (await albumItems(family, 'Phone')).find((entry) => entry.name === HOSTILE_NAME);
    assert.ok(item, 'listed under its own name');
    const response = await family.get(item.urls['medium']!);
    assert.equal(response.status, 200);
    const bytes = Buffer.from(await response.arrayBuffer());
    assertRedThenBlue(await colourAt(bytes, 0.12, 0.5), await colourAt(bytes, 0.85, 0.5), 'hostile name');
    assert.equal(existsSync(path.join(server.stateDir, 'pwned')), false);
    assert.equal(existsSync('pwned'), false, 'no command ran');
  });

  it('skips a broken HEIC with one log line, never a crash, and keeps serving the rest', async () => {
    assert.equal((await albumItems(family, 'Phone')).some((entry) => entry.name === 'IMG_0002.heic'), false, 'the broken HEIC is not listed');
    const lines = server.logLines.filter((line) => line['path'] === 'Phone/IMG_0002.heic');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]!['level'], 40, 'a warning');
    assert.equal(lines[0]!['reason'], 'unreadable-image');
    const item = (await albumItems(family, 'Phone')).find((entry) => entry.name === 'IMG_0001.HEIC')!;
    assert.equal((await family.get(item.urls['small']!)).status, 200);
  });
});

describe('HEIC decoders', { skip: process.env['CI'] ? false : missing }, () => {
  let photo: Buffer;

  before(async () => {
    const scratch = await tempDir('keepsake-heic-');
    await makeHeic(path.join(scratch, 'photo.heic'), scratch);
    photo = await readFile(path.join(scratch, 'photo.heic'));
  });

  it('each decoder on this machine gives the same upright picture', async () => {
    const decoders = heicDecoders();
    if (process.env['CI']) assert.equal(decoders.length, 2, 'CI has Debian\'s heif-convert as well as WebAssembly');
    for (const decoder of decoders) {
      const pixels = await decoder.decode(photo, { timeoutMs: 30_000, pixels: WIDTH * HEIGHT });
      const image = pixels.kind === 'raw' ? sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } }) : sharp(pixels.bytes);
      const png = await image.png().toBuffer();
      const { width, height } = await sharp(png).metadata();
      assert.deepEqual([width, height], [WIDTH, HEIGHT], decoder.name);
      assertRedThenBlue(await colourAt(png, 0.12, 0.5), await colourAt(png, 0.85, 0.5), decoder.name);
    }
  });

  it('each decoder decodes a grid of 512 px tiles, the layout every iPhone writes, within its memory limit', async () => {
    // An iPhone's 12 MP: 8 × 6 tiles. libheif decodes tiles on several threads; under an address-space limit glibc's per-thread
    // heaps once made heif-convert wait forever, so every iPhone photo ran into the time limit.
    const [gridWidth, gridHeight] = [4032, 3024];
    const left = await sharp({ create: { width: gridWidth / 3, height: gridHeight, channels: 3, background: '#d01010' } }).png().toBuffer();
    const picture = await sharp({ create: { width: gridWidth, height: gridHeight, channels: 3, background: '#1030d0' } }).composite([{ input: left, left: 0, top: 0 }]).png().toBuffer();
    const grid = await makeGridHeic(picture, await tempDir('keepsake-heic-grid-'), HEIF_ENC);
    for (const decoder of heicDecoders()) {
      const pixels = await decoder.decode(grid, { timeoutMs: 20_000, pixels: gridWidth * gridHeight });
      const image = pixels.kind === 'raw' ? sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } }) : sharp(pixels.bytes);
      const png = await image.png().toBuffer();
      const { width, height } = await sharp(png).metadata();
      assert.deepEqual([width, height], [gridWidth, gridHeight], `${decoder.name}: the grid's size, not a tile's`);
      assertRedThenBlue(await colourAt(png, 0.12, 0.5), await colourAt(png, 0.85, 0.5), decoder.name);
    }
  });

  it('a HEIC of several top-level pictures is decoded to its primary one or refused with a clear error, never a stray exception', async () => {
    const left = await sharp({ create: { width: 400, height: 600, channels: 3, background: '#d01010' } }).png().toBuffer();
    const picture = await sharp({ create: { width: 1200, height: 600, channels: 3, background: '#1030d0' } }).composite([{ input: left, left: 0, top: 0 }]).png().toBuffer();
    const several = await makeGridHeic(picture, await tempDir('keepsake-heic-several-'), HEIF_ENC, { visibleTiles: true });
    for (const decoder of heicDecoders()) {
      const outcome = await decoder.decode(several, { timeoutMs: 20_000, pixels: 1200 * 600 }).then(
        async (pixels) => {
          const image = pixels.kind === 'raw' ? sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } }) : sharp(pixels.bytes);
          const { width, height } = await sharp(await image.png().toBuffer()).metadata();
          return `${width}x${height}`;
        },
        (error: unknown) => {
          assert.ok(error instanceof HeicDecodeError, `${decoder.name}: ${String(error)}`);
          return 'refused';
        },
      );
      assert.ok(outcome === '1200x600' || outcome === 'refused', `${decoder.name}: ${outcome}`);
    }
  });

  it('each decoder refuses broken bytes and an overrun of its time limit with a clear error, then decodes again', async () => {
    for (const decoder of heicDecoders()) {
      await assert.rejects(decoder.decode(photo.subarray(0, 200), { timeoutMs: 30_000, pixels: WIDTH * HEIGHT }), HeicDecodeError, decoder.name);
      await assert.rejects(decoder.decode(photo, { timeoutMs: 1, pixels: WIDTH * HEIGHT }), (error: unknown) => error instanceof HeicDecodeError && /longer than/.test(error.message), decoder.name);
      const again = await decoder.decode(photo, { timeoutMs: 30_000, pixels: WIDTH * HEIGHT });
      assert.ok(again.kind === 'raw' ? again.width === WIDTH : again.bytes.length > 0, `${decoder.name} decodes after a failure`);
    }
  });
});
