import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { exifSegment, largestEmbeddedJpeg, rawFactsFrom, rawPreview } from '../src/raw-previews.js';
import { pairCompanions } from '../src/library/companions.js';
import type { MediaItem } from '../src/library/index.js';
import { Client } from './helpers/client.js';
import { makeJpeg, tempDir } from './helpers/fixtures.js';
import { albumItems, familyAndViewer } from './helpers/albums.js';
import { CAMERA_MAKE, CAMERA_SERIAL, makeRaw, type RawKind } from './helpers/raws.js';
import type { TestServer } from './helpers/server.js';

/*
 * Camera RAW files (built in helpers/raws.ts as each camera lays them out) are shown through the
 * JPEG preview the camera embedded, turned as the camera was held, dated as it wrote; the RAW
 * stays the original download; a RAW beside a JPEG of its name is one item.
 */

const PASSWORD = 'the photographer of the family';
const VIEWER = 'grandparents look only';
const TAKEN = '2023:03:04 10:20:30';
const KINDS: readonly RawKind[] = ['dng', 'cr2', 'nef', 'arw', 'orf', 'raf', 'cr3'];

async function meanColour(bytes: Buffer): Promise<{ r: number; g: number; b: number }> {
  const { channels } = await sharp(bytes).stats();
  return { r: channels[0]!.mean, g: channels[1]!.mean, b: channels[2]!.mean };
}

describe('RAW previews (pure)', () => {
  it('takes the largest picture JPEG in the file, never the lossless sensor data, a thumbnail or stray bytes', async () => {
    const scratch = await tempDir('keepsake-raw-');
    const file = path.join(scratch, 'a.dng');
    await makeRaw(file, { kind: 'dng', width: 640, height: 480 });
    const found = largestEmbeddedJpeg(await readFile(file));
    assert.ok(found, 'a preview is found');
    const metadata = await sharp(found.bytes).metadata();
    assert.deepEqual([metadata.format, metadata.width, metadata.height], ['jpeg', 640, 480]);
    assert.equal(largestEmbeddedJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xc3, 0, 11, 8, 0, 1, 0, 1, 1, 0, 0xff, 0xd9])), undefined, 'a lossless JPEG is no preview');
    assert.equal(largestEmbeddedJpeg(Buffer.alloc(1000, 0xff)), undefined);
  });

  it('reads orientation and date from the TIFF directory, and writes exactly those into the preview', async () => {
    const scratch = await tempDir('keepsake-raw-');
    const file = path.join(scratch, 'a.orf');
    await makeRaw(file, { kind: 'orf', orientation: 8, dateTimeOriginal: TAKEN });
    const bytes = await readFile(file);
    assert.deepEqual(rawFactsFrom(bytes), { orientation: 8, dateTimeOriginal: TAKEN, offsetTimeOriginal: undefined });
    const exif = exifReader(exifSegment({ orientation: 8, dateTimeOriginal: TAKEN, offsetTimeOriginal: '+02:00' })!.subarray(4));
    assert.equal(exif.Image?.Orientation, 8);
    assert.equal((exif.Photo?.DateTimeOriginal as Date).toISOString(), '2023-03-04T10:20:30.000Z');
    assert.equal(exif.Photo?.OffsetTimeOriginal, '+02:00');
    const preview = await sharp(rawPreview(bytes)).metadata();
    assert.equal(preview.orientation, 8);
    assert.equal(exifSegment({ orientation: undefined, dateTimeOriginal: undefined, offsetTimeOriginal: undefined }), undefined);
  });

  it('pairs a RAW with the JPEG of its name, and gives a Live Photo\'s motion to the JPEG, not the RAW', () => {
    const item = (name: string, type: 'image' | 'video' = 'image', durationMs?: number): MediaItem => ({ name, albumPath: 'A', type, size: 1, mtimeMs: 1, width: 4, height: 3, takenAt: 1, ...(durationMs === undefined ? {} : { durationMs }) });
    const listed = pairCompanions([item('IMG_1.CR2'), item('IMG_1.JPG'), item('IMG_1.MOV', 'video', 2000), item('IMG_2.NEF'), item('IMG_3.dng'), item('img_3.heic')]);
    assert.deepEqual(listed.map((entry) => entry.name), ['IMG_1.JPG', 'IMG_2.NEF', 'img_3.heic']);
    assert.equal(listed[0]!.raw?.name, 'IMG_1.CR2');
    assert.equal(listed[0]!.motion?.name, 'IMG_1.MOV');
    assert.equal(listed[1]!.raw, undefined, 'a RAW alone is an item of its own');
    assert.equal(listed[2]!.raw?.name, 'IMG_3.dng');
  });
});

describe('RAW files over HTTP', () => {
  let server: TestServer;
  let family: Client;
  let viewer: Client;
  let mediaRoot: string;

  before(async () => {
    mediaRoot = await tempDir('keepsake-media-');
    const album = path.join(mediaRoot, 'Camera');
    for (const kind of KINDS) await makeRaw(path.join(album, `IMG_${kind}.${kind.toUpperCase()}`), { kind, orientation: 6, dateTimeOriginal: TAKEN, colour: '#c03030' });
    // A RAW+JPEG pair, as cameras write them side by side.
    await makeRaw(path.join(album, 'DSC_0009.NEF'), { kind: 'nef', colour: '#3050c0' });
    await makeJpeg(path.join(album, 'DSC_0009.JPG'), { width: 600, height: 400, colour: '#3050c0' });
    await makeRaw(path.join(album, 'blank.arw'), { kind: 'arw', withoutPreview: true });
    ({ server, family, viewer } = await familyAndViewer(mediaRoot, { family: PASSWORD, viewer: VIEWER }));
  });
  after(() => server?.close());

  it('lists every kind of RAW as a photo, upright as the camera was held, dated as it wrote', async () => {
    const items = await albumItems(family, 'Camera');
    for (const kind of KINDS) {
      const item = items.find((entry) => entry.name === `IMG_${kind}.${kind.toUpperCase()}`);
      assert.ok(item, `${kind} is listed`);
      assert.equal(item.type, 'image');
      // CR3 keeps its orientation in boxes keepsake does not read: its preview is shown as stored.
      assert.deepEqual([item.width, item.height], kind === 'cr3' ? [600, 400] : [400, 600], `${kind}: ${item.width}×${item.height}`);
      if (kind !== 'cr3') assert.equal(item.takenAt, '2023-03-04T10:20:30.000Z', kind);
      assert.deepEqual(Object.keys(item.urls).sort(), ['large', 'medium', 'original', 'small', 'thumb'], kind);
    }
  });

  it('serves derivatives of the preview, in its colours and shape, with nothing the camera wrote', async () => {
    for (const item of (await albumItems(viewer, 'Camera')).filter((entry) => entry.name.startsWith('IMG_'))) {
      for (const variant of ['thumb', 'medium']) {
        const response = await viewer.get(item.urls[variant]!);
        assert.equal(response.status, 200, `${item.name} ${variant}`);
        const bytes = Buffer.from(await response.arrayBuffer());
        const metadata = await sharp(bytes).metadata();
        assert.equal(metadata.exif, undefined, `${item.name} ${variant}: no EXIF`);
        for (const marker of [CAMERA_MAKE, CAMERA_SERIAL, '2023:03:04']) assert.equal(bytes.indexOf(marker), -1, `${item.name} ${variant} holds no "${marker}"`);
        if (variant === 'medium') assert.equal(metadata.width! < metadata.height!, !item.name.endsWith('.CR3'), `${item.name}: ${metadata.width}×${metadata.height}`);
        const colour = await meanColour(bytes);
        assert.ok(colour.r > 150 && colour.b < 90, `${item.name} ${variant} is the preview's red: ${JSON.stringify(colour)}`);
      }
    }
  });

  it('keeps the RAW file itself as the original download, for keys that allow originals only', async () => {
    const item = (await albumItems(family, 'Camera')).find((entry) => entry.name === 'IMG_dng.DNG')!;
    const response = await family.get(item.urls['original']!);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/x-adobe-dng');
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(await readFile(path.join(mediaRoot, 'Camera', 'IMG_dng.DNG'))));
    assert.equal((await albumItems(viewer, 'Camera')).find((entry) => entry.name === 'IMG_dng.DNG')!.urls['original'], undefined);
  });

  it('shows a RAW+JPEG pair once: the JPEG, with the RAW as its original download', async () => {
    const items = await albumItems(family, 'Camera');
    assert.equal(items.some((entry) => entry.name === 'DSC_0009.NEF'), false, 'the RAW is no item of its own');
    const pair = items.find((entry) => entry.name === 'DSC_0009.JPG');
    assert.ok(pair?.urls['original']?.endsWith('/original/Camera/DSC_0009.NEF'), pair?.urls['original']);
    const raw = await family.get(pair!.urls['original']!);
    assert.ok(Buffer.from(await raw.arrayBuffer()).equals(await readFile(path.join(mediaRoot, 'Camera', 'DSC_0009.NEF'))));
    assert.equal((await albumItems(viewer, 'Camera')).find((entry) => entry.name === 'DSC_0009.JPG')!.urls['original'], undefined, 'nor for a key without originals');
    const albums = ((await (await family.get('/api/albums')).json()) as { albums: Array<{ path: string; photoCount: number }> }).albums;
    assert.equal(albums.find((entry) => entry.path === 'Camera')?.photoCount, items.length, 'the album counts the pair once');
  });

  it('skips a RAW with no preview with one log line, and keeps serving the rest', async () => {
    assert.equal((await albumItems(family, 'Camera')).some((entry) => entry.name === 'blank.arw'), false);
    const lines = server.logLines.filter((line) => line['path'] === 'Camera/blank.arw');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]!['level'], 40, 'a warning');
    assert.equal(lines[0]!['reason'], 'unreadable-image');
  });
});
