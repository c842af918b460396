import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { allowedPhotoInfo, cameraName, cleanNumber, cleanText, MAX_TEXT_LENGTH, photoInfoFromExif, photoInfoFromJson } from '../src/library/photo-info.js';
import { openDatabase } from '../src/store/index.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { Client } from './helpers/client.js';
import { ALLOWED_INFO, GPS_TRACES, PRIVATE, writeCameraJpeg } from './helpers/exif-photos.js';
import { makeJpeg, tempDir, waitUntil } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { makeSandbox, openLibrary, waitFor, type Sandbox } from './fixtures/library-fixtures.js';

/*
 * Photo info: camera, lens and exposure from EXIF through one allow-list (src/library/photo-info.ts),
 * every value checked, and nothing else of the EXIF (GPS, serial numbers, names, free text) in
 * anything the API sends.
 */

describe('photo info allow-list (pure)', () => {
  it('keeps printable, short text and refuses control characters, markup and overlong names', () => {
    assert.equal(cleanText('  Canon   EOS R6  '), 'Canon EOS R6');
    assert.equal(cleanText('Café Ω 50mm ƒ/1.4'), 'Café Ω 50mm ƒ/1.4');
    for (const hostile of ['EOS\u0000R6', 'line\nbreak', 'tab\there', '\u202Eevil', 'zero\u200Bwidth', '<script>alert(1)</script>', 'a"b', "it's", 'back`tick', 'x'.repeat(MAX_TEXT_LENGTH + 1), '', '   ', '\uE000private']) {
      assert.equal(cleanText(hostile), undefined, JSON.stringify(hostile));
    }
    for (const notText of [42, null, undefined, ['Canon'], { toString: () => 'Canon' }, Buffer.from('Canon')]) {
      assert.equal(cleanText(notText), undefined);
    }
    assert.equal(cleanText('x'.repeat(MAX_TEXT_LENGTH)), 'x'.repeat(MAX_TEXT_LENGTH));
  });

  it('keeps finite numbers in range and drops NaN, infinities, huge, negative and fractional counts', () => {
    const range = { min: 1, max: 100, integer: true };
    assert.equal(cleanNumber(50, range), 50);
    for (const bad of [Number.NaN, Infinity, -Infinity, 1e308, -5, 0, 50.5, '50', null, 10n]) assert.equal(cleanNumber(bad, range), undefined, String(bad));
  });

  it('takes only the allowed fields, each checked, whatever else is offered', () => {
    const info = allowedPhotoInfo({
      ...ALLOWED_INFO,
      GPSLatitude: [48, 51, 30],
      BodySerialNumber: PRIVATE.bodySerial,
      Artist: PRIVATE.artist,
      ImageDescription: PRIVATE.description,
      __proto__: { polluted: true },
    });
    assert.deepEqual(info, ALLOWED_INFO);
    assert.deepEqual(allowedPhotoInfo({ exposureSeconds: 0, fNumber: Number.NaN, iso: 1e12, focalLengthMm: -1, focalLength35mm: 0, camera: 'x'.repeat(500), lens: 7 }), {});
  });

  it('names the camera once, without repeating the make or a corporate suffix', () => {
    assert.equal(cameraName('Canon', 'Canon EOS R6'), 'Canon EOS R6');
    assert.equal(cameraName('NIKON CORPORATION', 'NIKON D750'), 'NIKON D750');
    assert.equal(cameraName('OLYMPUS IMAGING CORP.', 'E-M10'), 'OLYMPUS E-M10');
    assert.equal(cameraName('Apple', 'iPhone 15 Pro'), 'Apple iPhone 15 Pro');
    assert.equal(cameraName('SONY', 'ILCE-7M3'), 'SONY ILCE-7M3');
    assert.equal(cameraName(undefined, 'Pixel 8'), 'Pixel 8');
    assert.equal(cameraName('FUJIFILM', undefined), 'FUJIFILM');
    assert.equal(cameraName('<b>', 'X100V'), 'X100V');
    assert.equal(cameraName('Canon', '\u0000'), 'Canon');
    assert.equal(cameraName(undefined, undefined), undefined);
  });

  it('maps exif-reader output, ISO beyond 16 bits and array values included', () => {
    const info = photoInfoFromExif({
      Image: { Make: 'Canon', Model: 'Canon EOS R6', Artist: PRIVATE.artist, ImageDescription: PRIVATE.description },
      Photo: { LensModel: 'RF50mm F1.8 STM', ExposureTime: 1 / 60, FNumber: 1.8, ISOSpeedRatings: [65_535], ISOSpeed: 102_400, FocalLength: 50, FocalLengthIn35mmFilm: 0, BodySerialNumber: PRIVATE.bodySerial },
    });
    assert.deepEqual(info, { camera: 'Canon EOS R6', lens: 'RF50mm F1.8 STM', exposureSeconds: 1 / 60, fNumber: 1.8, iso: 102_400, focalLengthMm: 50 });
    assert.deepEqual(photoInfoFromExif({}), {});
    assert.deepEqual(photoInfoFromExif({ Photo: { ExposureTime: Infinity, FNumber: 0, ISOSpeedRatings: Number.NaN } }), {});
  });

  it('reads stored JSON through the same gate, and nothing from garbage', () => {
    const { camera: _dropped, ...rest } = ALLOWED_INFO;
    assert.deepEqual(photoInfoFromJson(JSON.stringify({ ...ALLOWED_INFO, serial: 'x', camera: 'Canon\nEOS' })), rest);
    for (const garbage of ['', 'not json', '[1,2]', 'null', '42', '"Canon"']) assert.equal(photoInfoFromJson(garbage), undefined, garbage);
  });
});

describe('photo info over HTTP', () => {
  let server: TestServer;
  let client: Client;
  let text: string;
  let items: Array<{ name: string; type: string; info?: Record<string, unknown> }>;

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await writeCameraJpeg(path.join(mediaRoot, 'Camera', 'canon.jpg'));
    await writeCameraJpeg(path.join(mediaRoot, 'Camera', 'hostile.jpg'), {
      image: { Make: 'Evil', Model: '<img src=x onerror=alert(1)>' },
      photo: { LensModel: 'x'.repeat(200), ExposureTime: '1/0', FNumber: '-28/10', ISOSpeedRatings: '0', FocalLength: '999999/1', FocalLengthIn35mmFilm: '0' },
    });
    await makeJpeg(path.join(mediaRoot, 'Camera', 'plain.jpg'));
    server = await startTestServer({ mediaRoot, keys: [{ label: 'viewer', password: 'photo info for the family' }] });
    client = new Client(server.url);
    assert.equal((await client.login('photo info for the family')).status, 303);
    await waitUntil(async () => (await client.get('/api/albums/Camera')).status === 200, 10_000, 'the album');
    text = await (await client.get('/api/albums/Camera')).text();
    items = (JSON.parse(text) as { items: typeof items }).items;
  });
  after(() => server?.close());

  it('shows exactly the allowed fields with the camera\'s values', () => {
    assert.deepEqual(items.find((item) => item.name === 'canon.jpg')?.info, ALLOWED_INFO);
  });

  it('sends no serial number, owner, artist, copyright, description, comment or GPS anywhere', () => {
    for (const [what, value] of Object.entries(PRIVATE)) assert.equal(text.includes(value), false, `${what} leaked`);
    for (const trace of GPS_TRACES) assert.equal(text.includes(trace), false, `GPS trace ${trace} in ${text}`);
    assert.doesNotMatch(text, /serial|artist|owner|copyright|description|comment|"place"/i);
  });

  it('drops hostile values instead of passing them on', () => {
    const hostile = items.find((item) => item.name === 'hostile.jpg');
    assert.ok(hostile, text);
    assert.deepEqual(hostile.info, { camera: 'Evil' });
    assert.doesNotMatch(text, /onerror|xxxxxxxxxx/);
  });

  it('leaves info out for a photo without EXIF', () => {
    const plain = items.find((item) => item.name === 'plain.jpg');
    assert.ok(plain);
    assert.equal('info' in plain, false);
  });
});

describe('photo info in a catalogue made before it was kept', () => {
  let sandbox: Sandbox;
  before(() => {
    sandbox = makeSandbox();
  });
  after(() => sandbox.remove());

  it('migrates existing rows: added_at from their mtime, info and placeholder to be filled', () => {
    const file = path.join(sandbox.dir, 'old.db');
    const old = new Database(file);
    for (const step of MIGRATIONS.slice(0, -1)) old.exec(step);
    old.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    const mtime = Date.UTC(2020, 0, 2);
    old.prepare("INSERT INTO media (album_path, name, type, size, mtime_ms, width, height, taken_at) VALUES ('A', 'a.jpg', 'image', 10, ?, 4, 3, ?)").run(mtime, mtime);
    old.prepare("INSERT INTO media (album_path, name, type, size, mtime_ms, width, height, taken_at) VALUES ('A', 'future.jpg', 'image', 10, ?, 4, 3, ?)").run(Date.now() + 1e10, mtime);
    old.close();
    const before = Date.now();
    const db = openDatabase(file);
    const rows = db.prepare('SELECT name, info, placeholder, added_at FROM media ORDER BY name').all() as Array<{ name: string; info: null; placeholder: null; added_at: number }>;
    db.close();
    assert.deepEqual(rows[0], { name: 'a.jpg', info: null, placeholder: null, added_at: mtime });
    assert.equal(rows[1]!.info, null);
    assert.ok(rows[1]!.added_at >= before - 1000 && rows[1]!.added_at <= Date.now() + 1000, 'a future mtime counts as now');
  });

  it('reads the EXIF of photos catalogued before info was kept, in the background pass', async () => {
    await writeCameraJpeg(path.join(sandbox.mediaRoot, 'Camera', 'canon.jpg'));
    const first = openLibrary(sandbox);
    await first.library.scan();
    await first.library.close();
    // As a catalogue from before this version left it: no info, no placeholder.
    sandbox.db.prepare('UPDATE media SET info = NULL, placeholder = NULL').run();
    const opened = openLibrary(sandbox);
    try {
      assert.equal(opened.library.item('Camera', 'canon.jpg')?.info, undefined);
      await opened.library.watch();
      const scan = await opened.library.scan();
      assert.equal(scan.updated + scan.added, 0, 'the unchanged file is not read again by the scan');
      await waitFor(() => opened.library.listing('Camera')?.items[0]?.info !== undefined, 10_000, 'the info');
      assert.deepEqual(opened.library.listing('Camera')?.items[0]?.info, ALLOWED_INFO);
      assert.ok(opened.library.listing('Camera')?.items[0]?.placeholder, 'and its placeholder');
    } finally {
      await opened.library.close();
    }
  });
});
