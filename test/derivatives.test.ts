import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  DEFAULT_PRESETS,
  DerivativeError,
  createDerivatives,
  parseLeaf,
  variantOutputSize,
  variants,
} from '../src/derivatives/index.js';
import type { DerivativesOptions, SourceImage } from '../src/derivatives/index.js';
import { createAtomicWriter } from '../src/derivatives/cache-files.js';
import { sourceErrorFrom } from '../src/derivatives/errors.js';
import { createLogger } from '../src/log.js';
import {
  CANARY,
  QUADRANTS,
  colourDistance,
  canaryJpeg,
  flatImage,
  noisyJpeg,
  orientedJpeg,
  p3Jpeg,
  p3Png16,
  pixelAt,
} from './fixtures/derivatives-images.js';
import type { Rgb } from './fixtures/derivatives-images.js';
import { fileSource } from './helpers/fixtures.js';

let workDir: string;
before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'keepsake-derivatives-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A fresh cache and media folder, and a logger whose lines the test can read. */
async function setUp(options: Partial<DerivativesOptions> = {}) {
  const root = await mkdtemp(path.join(workDir, 'case-'));
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const derivatives = createDerivatives({ cacheDir: path.join(root, 'cache'), log, ...options });
  async function source(name: string, bytes: Buffer | Promise<Buffer>, albumPath = 'Summer 2024'): Promise<SourceImage & { absolutePath: string }> {
    const absolutePath = path.join(root, 'media', albumPath, name);
    await mkdir(path.dirname(absolutePath), { recursive: true });
    await writeFile(absolutePath, await bytes);
    const info = await stat(absolutePath);
    return fileSource(absolutePath, { albumPath, name, size: info.size, mtimeMs: info.mtimeMs });
  }
  const failures = () => lines.filter((line) => line['msg'] === 'derivative not made');
  return { root, derivatives, source, lines, failures, cacheDir: path.join(root, 'cache') };
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('presets and sizes', () => {
  it('has the default variants in order, fit inside and never enlarged, with a square thumb', () => {
    assert.deepEqual([...variants], ['thumb', 'small', 'medium', 'large']);
    assert.deepEqual(DEFAULT_PRESETS.thumb, { width: 320, height: 320, fit: 'cover', position: 'attention' });
    assert.equal(DEFAULT_PRESETS.large.width, 2048);
    assert.deepEqual(variantOutputSize(4000, 3000, DEFAULT_PRESETS.medium), { width: 1280, height: 960 });
    assert.deepEqual(variantOutputSize(3000, 4000, DEFAULT_PRESETS.small), { width: 480, height: 640 });
    assert.deepEqual(variantOutputSize(4000, 3000, DEFAULT_PRESETS.thumb), { width: 320, height: 320 });
    assert.deepEqual(variantOutputSize(300, 200, DEFAULT_PRESETS.large), { width: 300, height: 200 });
    assert.deepEqual(variantOutputSize(200, 100, DEFAULT_PRESETS.thumb), { width: 100, height: 100 });
    assert.deepEqual(variantOutputSize(10_000, 10, DEFAULT_PRESETS.small), { width: 640, height: 1 });
  });

  it('overlays configured presets on the defaults and explains every bad one', async () => {
    const { derivatives } = await setUp({ presets: { small: { size: 800 }, huge: { width: 4096, height: 4096 }, large: undefined } });
    assert.deepEqual(derivatives.variants, ['thumb', 'small', 'medium', 'huge']);
    assert.deepEqual(derivatives.presetOf('small'), { width: 800, height: 800, fit: 'inside', position: 'centre' });
    const log = createLogger('silent');
    const bad: Array<[Partial<DerivativesOptions>, RegExp]> = [
      [{ presets: { small: { width: 0 } } }, /Expected an integer 1–8192 for presets\.small\.width but received 0/],
      [{ presets: { thumb: { fit: 'fill' as never } } }, /Expected one of inside, cover for presets\.thumb\.fit but received "fill"/],
      [{ presets: { Original: { size: 10 } } }, /for presets \(variant name\) but received "Original"/],
      [{ presets: { original: { size: 10 } } }, /not original or video.*received "original"/],
      [{ presets: { video: { size: 10 } } }, /not original or video.*received "video"/],
      [{ presets: { poster: { fit: 'cover' } } }, /for presets\.poster\.width but received undefined/],
      [{ format: 'gif' as never }, /Expected one of webp, avif, jpeg for format but received "gif"/],
      [{ quality: 101 }, /Expected an integer 1–100 for quality but received 101/],
      [{ concurrency: 0 }, /for concurrency but received 0/],
      [{ timeLimitMs: -5 }, /for timeLimitMs but received -5/],
      [{ cacheDir: '' }, /Expected a folder path for cacheDir but received ""/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => createDerivatives({ cacheDir: '/tmp/x', log, ...options }), message);
    }
  });
});

describe('names and paths', () => {
  const identity = { albumPath: 'Summer 2024/Beach', name: 'IMG_0001.jpg', size: 1234, mtimeMs: 1_700_000_000_000.5 };

  it('names the file after the source and a hash of everything that shapes it', async () => {
    const { derivatives, cacheDir } = await setUp();
    const leaf = derivatives.leafFor(identity, 'thumb');
    assert.match(leaf, /^IMG_0001\.jpg\.[0-9a-f]{12}\.webp$/);
    assert.deepEqual(parseLeaf(leaf), { sourceName: 'IMG_0001.jpg', hash: leaf.split('.')[2], extension: 'webp' });
    assert.deepEqual(derivatives.parseLeaf(leaf), parseLeaf(leaf));
    assert.equal(derivatives.leafFor({ ...identity }, 'thumb'), leaf, 'stable');
    const others = [
      derivatives.leafFor({ ...identity, size: 1235 }, 'thumb'),
      derivatives.leafFor({ ...identity, mtimeMs: identity.mtimeMs + 1 }, 'thumb'),
      derivatives.leafFor({ ...identity, albumPath: 'Summer 2024' }, 'thumb'),
      derivatives.leafFor(identity, 'small'),
      (await setUp({ quality: 70 })).derivatives.leafFor(identity, 'thumb'),
      (await setUp({ presets: { thumb: { size: 256 } } })).derivatives.leafFor(identity, 'thumb'),
    ];
    assert.equal(new Set([leaf, ...others]).size, others.length + 1, 'every setting changes the name');
    assert.match((await setUp({ format: 'jpeg' })).derivatives.leafFor(identity, 'thumb'), /\.jpg$/);
    assert.equal(derivatives.cachePathFor(identity.albumPath, 'thumb', leaf), path.join(cacheDir, 'thumb', 'Summer 2024', 'Beach', leaf));
    assert.equal(derivatives.cachePathFor('', 'thumb', leaf), path.join(cacheDir, 'thumb', leaf));
  });

  it('parses only names it made and refuses paths that leave the cache', async () => {
    const { derivatives } = await setUp();
    for (const leaf of ['.tmp-abc', 'IMG.jpg', 'IMG.jpg.3fa9c2d1e0ab.png', '.hidden.jpg.3fa9c2d1e0ab.webp', 'x.jpg.3FA9C2D1E0AB.webp']) {
      assert.equal(parseLeaf(leaf), undefined, leaf);
    }
    assert.deepEqual(parseLeaf('a.b.c.jpg.0123456789ab.avif'), { sourceName: 'a.b.c.jpg', hash: '0123456789ab', extension: 'avif' });
    const leaf = derivatives.leafFor(identity, 'thumb');
    for (const album of ['../x', 'a/../../x', '/etc', 'a//b', '.hidden', 'a\\b']) {
      assert.throws(() => derivatives.cachePathFor(album, 'thumb', leaf), /albumPath/, album);
    }
    assert.throws(() => derivatives.cachePathFor('a', '..', leaf), /variant/);
    assert.throws(() => derivatives.cachePathFor('a', 'thumb', '../../etc/passwd'), /leaf/);
    assert.throws(() => derivatives.leafFor({ ...identity, name: '../x.jpg' }, 'thumb'), /source\.name/);
    assert.throws(() => derivatives.leafFor(identity, 'poster'), (error: unknown) => error instanceof DerivativeError && error.code === 'UNKNOWN_VARIANT');
  });
});

describe('what a derivative looks like', () => {
  const W = 160;
  const H = 80;
  const probes: Array<[number, number, Rgb]> = [
    [W / 4, H / 4, QUADRANTS.topLeft],
    [(3 * W) / 4, H / 4, QUADRANTS.topRight],
    [W / 4, (3 * H) / 4, QUADRANTS.bottomLeft],
    [(3 * W) / 4, (3 * H) / 4, QUADRANTS.bottomRight],
  ];

  it('comes out upright for all eight EXIF orientations', async () => {
    const { derivatives, source } = await setUp();
    for (let orientation = 1; orientation <= 8; orientation += 1) {
      const original = await source(`orientation-${orientation}.jpg`, orientedJpeg(orientation, W, H));
      const file = await derivatives.ensure(original, 'small');
      const metadata = await sharp(file).metadata();
      assert.deepEqual([metadata.width, metadata.height], [W, H], `orientation ${orientation}: size`);
      assert.equal(metadata.orientation, undefined, `orientation ${orientation}: no tag left`);
      for (const [x, y, expected] of probes) {
        const actual = await pixelAt(file, x, y);
        assert.ok(colourDistance(actual, expected) < 40, `orientation ${orientation} at ${x},${y}: ${actual} ≠ ${expected}`);
      }
    }
  });

  it('strips GPS, EXIF, XMP and IPTC from every variant', async () => {
    const { derivatives, source } = await setUp();
    const bytes = await canaryJpeg();
    const input = await sharp(bytes).metadata();
    assert.ok(input.exif && input.xmp && input.iptc, 'the fixture carries all three');
    const files = await derivatives.ensureAll(await source('gps.jpg', bytes));
    for (const file of Object.values(files)) {
      const output = await readFile(file);
      assert.equal(output.includes(CANARY), false, `${file} contains the canary`);
      assert.equal(output.includes('KeepsakeCam'), false);
      const metadata = await sharp(output).metadata();
      assert.equal(metadata.exif, undefined);
      assert.equal(metadata.xmp, undefined);
      assert.equal(metadata.iptc, undefined);
      assert.equal(metadata.icc, undefined);
    }
  });

  for (const [label, make] of [['8-bit JPEG', p3Jpeg], ['16-bit PNG', p3Png16]] as const) {
    it(`converts a Display P3 ${label} to sRGB instead of dropping its profile`, async () => {
      const { derivatives, source } = await setUp();
      const colour: Rgb = [200, 60, 40];
      const bytes = await make(colour);
      const storedAsP3 = await pixelAt(await sharp(bytes, { ignoreIcc: true }).toColourspace('srgb').png().toBuffer(), 5, 5);
      assert.ok(colourDistance(storedAsP3, colour) >= 10, `the fixture's P3 numbers differ from sRGB (${storedAsP3})`);
      const file = await derivatives.ensure(await source(`p3-${label}.img`, bytes), 'small');
      const metadata = await sharp(file).metadata();
      assert.equal(metadata.space, 'srgb');
      assert.equal(metadata.icc, undefined);
      const output = await pixelAt(file, 10, 10);
      assert.ok(colourDistance(output, colour) <= 6, `converted: ${output} ≈ ${colour}, not the raw ${storedAsP3}`);
    });
  }

  it('never enlarges, crops the thumb square, and matches variantOutputSize', async () => {
    const { derivatives, source } = await setUp();
    const tiny = await source('tiny.png', flatImage(300, 200).png().toBuffer());
    const tinyFiles = await derivatives.ensureAll(tiny);
    for (const [variant, file] of Object.entries(tinyFiles)) {
      const { width, height } = await sharp(file).metadata();
      const expected = variant === 'thumb' ? [200, 200] : [300, 200];
      assert.deepEqual([width, height], expected, variant);
    }
    const photo = await source('photo.jpg', noisyJpeg(2400, 1601));
    for (const [variant, file] of Object.entries(await derivatives.ensureAll(photo))) {
      const { width, height } = await sharp(file).metadata();
      const preset = derivatives.presetOf(variant);
      assert.ok(preset);
      assert.deepEqual({ width, height }, variantOutputSize(2400, 1601, preset), variant);
    }
    assert.deepEqual(await sharp(await readFile(tinyFiles['thumb'] ?? '')).metadata().then((m) => m.format), 'webp');
  });

  it('keeps transparency in WebP and puts it on white in JPEG', async () => {
    const transparent = sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const webp = await setUp();
    const webpFile = await webp.derivatives.ensure(await webp.source('clear.png', transparent), 'small');
    assert.equal((await sharp(webpFile).metadata()).hasAlpha, true);
    const jpeg = await setUp({ format: 'jpeg' });
    const jpegFile = await jpeg.derivatives.ensure(await jpeg.source('clear.png', transparent), 'small');
    assert.ok(colourDistance(await pixelAt(jpegFile, 20, 20), [255, 255, 255]) < 3);
  });

  for (const [format, extension, decoded] of [['webp', 'webp', 'webp'], ['avif', 'avif', 'heif'], ['jpeg', 'jpg', 'jpeg']] as const) {
    it(`writes ${format} bytes under a .${extension} name`, async () => {
      const { derivatives, source } = await setUp({ format });
      const file = await derivatives.ensure(await source('photo.jpg', noisyJpeg(900, 600)), 'medium');
      assert.ok(file.endsWith(`.${extension}`));
      const metadata = await sharp(file).metadata();
      assert.equal(metadata.format, decoded);
      if (format === 'avif') assert.equal(metadata.compression, 'av1');
      if (format === 'jpeg') assert.equal(metadata.isProgressive, true);
    });
  }
});

describe('making derivatives', () => {
  it('decodes an original once for all its variants and not again when they exist', async () => {
    const { derivatives, source, cacheDir } = await setUp();
    const photo = await source('photo.jpg', noisyJpeg(2400, 1800));
    const files = await derivatives.ensureAll(photo, variants, 'background');
    assert.deepEqual(Object.keys(files).sort(), [...variants].sort());
    // Waiters are answered as each file lands; the job itself ends a moment later.
    await waitFor(() => derivatives.stats().running === 0);
    assert.deepEqual(derivatives.stats(), { queued: 0, running: 0, made: 4, failed: 0, decodes: 1 });
    for (const [variant, file] of Object.entries(files)) {
      assert.equal(file, derivatives.cachePathFor('Summer 2024', variant, derivatives.leafFor(photo, variant)));
    }
    await derivatives.ensureAll(photo);
    await derivatives.ensure(photo, 'thumb');
    assert.equal(derivatives.stats().decodes, 1);
    assert.deepEqual((await filesUnder(cacheDir)).filter((file) => path.basename(file).startsWith('.')), []);
  });

  it('runs sharp once for 50 concurrent requests of one missing derivative', async () => {
    const { derivatives, source } = await setUp();
    const photo = await source('photo.jpg', noisyJpeg(1600, 1200));
    const files = await Promise.all(Array.from({ length: 50 }, () => derivatives.ensure(photo, 'medium')));
    assert.equal(new Set(files).size, 1);
    assert.equal(derivatives.stats().decodes, 1);
    assert.equal(derivatives.stats().made, 1);
    const contents = await Promise.all(files.map((file) => readFile(file)));
    assert.ok(contents.every((bytes) => bytes.equals(contents[0] ?? Buffer.alloc(0))));
  });

  it('gives every waiter the same error, logs it once, and tries again on the next call', async () => {
    const { derivatives, source, failures, cacheDir } = await setUp();
    const broken = await source('later.jpg', Buffer.from('not an image yet'));
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => derivatives.ensure(broken, 'small')));
    const errors = results.map((result) => (result.status === 'rejected' ? result.reason : undefined));
    assert.ok(errors[0] instanceof DerivativeError);
    assert.equal(errors[0].code, 'UNREADABLE_SOURCE');
    assert.ok(errors.every((error) => error === errors[0]), 'one error object for every waiter');
    assert.equal(failures().length, 1);
    assert.deepEqual(await filesUnder(cacheDir), []);
    // Same identity (as the catalogue still has it), now readable: no cached failure stands in the way.
    await writeFile(broken.absolutePath, await flatImage(800, 600).jpeg().toBuffer());
    const file = await derivatives.ensure(broken, 'small');
    assert.equal((await sharp(file).metadata()).width, 640);
    // The text file was refused at its header, before any decoding.
    assert.equal(derivatives.stats().decodes, 1);
    assert.equal(derivatives.stats().failed, 1);
  });

  it('runs on-demand work before queued pre-generation, and promotes what a visitor waits for', async () => {
    const order: string[] = [];
    let release!: () => void;
    const firstWriteMayEnd = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { derivatives, source } = await setUp({
      concurrency: 1,
      writeFile: async (file, data) => {
        await writeFile(file, data, { flag: 'wx' });
        // The first job holds the only slot until everything else is queued.
        if (order.length === 0) await firstWriteMayEnd;
        order.push(path.basename(path.dirname(file)));
      },
    });
    const albums = ['first', 'second', 'third', 'promoted', 'visitor'];
    const sources = new Map<string, SourceImage>();
    for (const album of albums) sources.set(album, await source(`${album}.jpg`, noisyJpeg(600, 400), album));
    const get = (album: string) => sources.get(album) as SourceImage;
    // One at a time, so the queue order is the order of the calls.
    for (const [index, album] of ['first', 'second', 'third', 'promoted'].entries()) {
      derivatives.pregenerate(get(album), ['small']);
      await waitFor(() => derivatives.stats().running + derivatives.stats().queued === index + 1);
    }
    const visitor = derivatives.ensure(get('visitor'), 'small');
    await waitFor(() => derivatives.stats().queued === 4);
    const promoted = derivatives.ensure(get('promoted'), 'small', 'now');
    release();
    await Promise.all([visitor, promoted]);
    await waitFor(() => derivatives.stats().made === 5);
    assert.deepEqual(order, ['first', 'visitor', 'promoted', 'second', 'third']);
  });

  it('leaves no file behind when a photo is removed while its derivatives are being made', async () => {
    let release!: () => void;
    const writesMayEnd = new Promise<void>((resolve) => {
      release = resolve;
    });
    let writing = 0;
    const { derivatives, source, cacheDir } = await setUp({
      writeFile: async (file, data) => {
        writing += 1;
        await writesMayEnd;
        await writeFile(file, data, { flag: 'wx' });
      },
    });
    const photo = await source('gone.jpg', noisyJpeg(1600, 1200));
    derivatives.pregenerate(photo, ['thumb', 'small']);
    await waitFor(() => writing === 1);
    // The photo is deleted; its removal runs while the job is about to write.
    await rm(photo.absolutePath);
    const removal = derivatives.removeFor('Summer 2024', 'gone.jpg');
    release();
    await removal;
    await waitFor(() => derivatives.stats().running === 0);
    assert.equal(derivatives.stats().made, 2, 'the job did write both files');
    assert.deepEqual(await filesUnder(cacheDir), [], 'what the job wrote after the first sweep is swept too');
  });

  it('on close, cancels queued background work and finishes what runs', async () => {
    const { derivatives, source, failures } = await setUp({ concurrency: 1 });
    const [a, b] = [await source('a.jpg', noisyJpeg(2400, 1800)), await source('b.jpg', noisyJpeg(1200, 900))];
    const running = derivatives.ensure(a, 'large', 'background');
    await waitFor(() => derivatives.stats().running === 1);
    const cancelled = assert.rejects(derivatives.ensure(b, 'small', 'background'), { code: 'CLOSED' });
    await waitFor(() => derivatives.stats().queued === 1);
    await derivatives.close();
    assert.match(await running, /a\.jpg\.[0-9a-f]{12}\.webp$/);
    await cancelled;
    await assert.rejects(derivatives.ensure(await source('c.jpg', noisyJpeg(100, 100)), 'small'), { code: 'CLOSED' });
    assert.equal(failures().length, 1);
    assert.equal(failures()[0]?.['level'], 20, 'shutting down is not a warning');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('writing into the cache', () => {
  it('writes a file whose folder a prune removed before a program opened its output, whatever words the program failed in', async () => {
    // ffmpeg says "No such file or directory" in a message, not an errno: the first playable copy
    // of a fresh start failed so when the start-up prune took the empty folder just made for it.
    const folder = path.join(await mkdtemp(path.join(tmpdir(), 'keepsake-writer-')), 'playable', 'Videos');
    const writer = createAtomicWriter((file, data) => writeFile(file, data));
    let runs = 0;
    await writer.writeWith(path.join(folder, 'clip.mp4'), async (temp) => {
      runs += 1;
      if (runs === 1) {
        await rm(folder, { recursive: true });
        throw new Error(`${temp}: No such file or directory`);
      }
      await writeFile(temp, 'the copy');
    });
    assert.equal(runs, 2);
    assert.equal(await readFile(path.join(folder, 'clip.mp4'), 'utf8'), 'the copy');
    assert.deepEqual(await readdir(folder), ['clip.mp4']);
  });

  it('runs a program once when it fails for reasons of its own', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'keepsake-writer-'));
    const writer = createAtomicWriter((file, data) => writeFile(file, data));
    let runs = 0;
    await assert.rejects(
      writer.writeWith(path.join(folder, 'clip.mp4'), async () => {
        runs += 1;
        throw new Error('Invalid data found when processing input');
      }),
    );
    assert.equal(runs, 1);
    assert.deepEqual(await readdir(folder), []);
  });
});

describe('reading a source: what a failure means', () => {
  const failure = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

  it('a full disk while a decoder writes its scratch copy is NO_SPACE (try again), never an unreadable photo', () => {
    assert.equal(sourceErrorFrom(failure('ENOSPC'), 'IMG_0001.HEIC').code, 'NO_SPACE');
    assert.equal(sourceErrorFrom(failure('EDQUOT'), 'IMG_0001.HEIC').code, 'NO_SPACE');
  });

  it('a vanished original is SOURCE_MISSING, and what a decoder says about the bytes is UNREADABLE_SOURCE', () => {
    assert.equal(sourceErrorFrom(failure('ENOENT'), 'gone.jpg').code, 'SOURCE_MISSING');
    assert.equal(sourceErrorFrom(new Error('heif-convert failed: Invalid input'), 'broken.heic').code, 'UNREADABLE_SOURCE');
  });
});
