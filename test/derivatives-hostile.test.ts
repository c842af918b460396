import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DerivativeError, createDerivatives } from '../src/derivatives/index.js';
import type { DerivativesOptions, SourceImage } from '../src/derivatives/index.js';
import { createLogger } from '../src/log.js';
import { bombPng, flatImage, jpegWithExtraneousBytes, noisyJpeg, truncatedJpeg } from './fixtures/derivatives-images.js';
import { fileSource } from './helpers/fixtures.js';

let workDir: string;
before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'keepsake-derivatives-hostile-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function setUp(options: Partial<DerivativesOptions> = {}) {
  const root = await mkdtemp(path.join(workDir, 'case-'));
  const cacheDir = options.cacheDir ?? path.join(root, 'cache');
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const derivatives = createDerivatives({ log, ...options, cacheDir });
  async function source(name: string, bytes: Buffer | Promise<Buffer>, albumPath = 'Album'): Promise<SourceImage & { absolutePath: string }> {
    const absolutePath = path.join(root, 'media', albumPath, name);
    await mkdir(path.dirname(absolutePath), { recursive: true });
    await writeFile(absolutePath, await bytes);
    const info = await stat(absolutePath);
    return fileSource(absolutePath, { albumPath, name, size: info.size, mtimeMs: info.mtimeMs });
  }
  const failures = () => lines.filter((line) => line['msg'] === 'derivative not made');
  return { root, cacheDir, derivatives, source, lines, failures };
}

/** Every entry below `folder` that is not a folder: files, links, temp files. */
async function entriesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
}

function hasCode(code: DerivativeError['code'], message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DerivativeError, `a DerivativeError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

describe('hostile and broken originals', () => {
  const cases: Array<[string, string, () => Promise<Buffer> | Buffer, RegExp]> = [
    ['a decompression bomb (20000×20000 PNG in 48 KB)', 'bomb.png', () => bombPng(), /exceeds the pixel limit/],
    ['a truncated JPEG', 'cut.jpg', truncatedJpeg, /premature end of JPEG/],
    ['a text file named .jpg', 'notes.jpg', () => Buffer.from('Dear diary, today I took no photos.\n'), /unsupported image format/],
    ['an empty file', 'empty.jpg', () => Buffer.alloc(0), /./],
    ['a JPEG header and nothing else', 'header.jpg', () => Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), /./],
  ];
  for (const [label, name, make, message] of cases) {
    it(`refuses ${label}: UNREADABLE_SOURCE, one log line, nothing in the cache`, async () => {
      const { derivatives, source, failures, cacheDir } = await setUp();
      const original = await source(name, make());
      const started = Date.now();
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => derivatives.ensureAll(original)));
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        hasCode('UNREADABLE_SOURCE', message)(result.reason);
      }
      assert.ok(Date.now() - started < 5_000, 'refused quickly');
      assert.equal(failures().length, 1);
      assert.deepEqual(failures()[0]?.['code'], 'UNREADABLE_SOURCE');
      assert.deepEqual(await entriesUnder(cacheDir), []);
      // Still healthy.
      await derivatives.ensure(await source('fine.jpg', flatImage(500, 400).jpeg().toBuffer()), 'small');
    });
  }

  it('refuses what is not a regular file: a folder or a FIFO named .jpg, without hanging', async () => {
    const { derivatives, root, cacheDir } = await setUp();
    const folder = path.join(root, 'folder.jpg');
    await mkdir(folder);
    const fifo = path.join(root, 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    for (const absolutePath of [folder, fifo]) {
      const original = fileSource(absolutePath, { albumPath: 'Album', name: path.basename(absolutePath), size: 0, mtimeMs: 0 });
      await assert.rejects(derivatives.ensure(original, 'thumb'), hasCode('UNREADABLE_SOURCE', /not a regular file/));
    }
    assert.deepEqual(await entriesUnder(cacheDir), []);
  });

  it('accepts a JPEG that only makes libjpeg warn (sharp\'s default failOn would refuse it)', async () => {
    const { derivatives, source } = await setUp();
    const bytes = await jpegWithExtraneousBytes();
    await assert.rejects(sharp(bytes, { failOn: 'warning' }).toBuffer(), /extraneous bytes/);
    const file = await derivatives.ensure(await source('quirky.jpg', bytes), 'small');
    assert.equal((await sharp(file).metadata()).width, 64);
  });

  it('says SOURCE_MISSING for an original deleted since it was catalogued', async () => {
    const { derivatives, source } = await setUp();
    const original = await source('gone.jpg', flatImage(100, 100).jpeg().toBuffer());
    await unlink(original.absolutePath);
    await assert.rejects(derivatives.ensure(original, 'thumb'), hasCode('SOURCE_MISSING'));
  });

  it('applies a configured pixel limit', async () => {
    const { derivatives, source } = await setUp({ limitInputPixels: 1_000_000 });
    const large = await source('large.png', flatImage(1001, 1000).png().toBuffer());
    await assert.rejects(derivatives.ensure(large, 'thumb'), hasCode('UNREADABLE_SOURCE', /1001×1000 exceeds the pixel limit of 1000000/));
    await derivatives.ensure(await source('ok.png', flatImage(1000, 1000).png().toBuffer()), 'thumb');
  });

  it('gives up at the time limit: TIMEOUT for every waiter, the slot freed, no file written later', async () => {
    const { derivatives, source, cacheDir, lines } = await setUp({ timeLimitMs: 40, concurrency: 1 });
    const photo = await source('slow.jpg', noisyJpeg(4000, 3000));
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => derivatives.ensure(photo, 'large')));
    for (const result of results) hasCode('TIMEOUT', /longer than 40 ms/)(result.status === 'rejected' ? result.reason : 'resolved');
    assert.equal(derivatives.stats().running, 0, 'the queue slot is free at once');
    // The abandoned decode ends on its own and must not write anything.
    const abandoned = () => lines.some((line) => line['msg'] === 'abandoned work ended after its time limit');
    for (let waited = 0; !abandoned() && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(abandoned());
    assert.deepEqual(await entriesUnder(cacheDir), []);
  });
});

describe('a full disk', () => {
  function failingWrite(code: string, state: { full: boolean }) {
    return async (file: string, data: Uint8Array) => {
      if (!state.full) return writeFile(file, data, { flag: 'wx' });
      // Half the bytes reach the disk, then it is full: the worst case for a partial file.
      await writeFile(file, data.subarray(0, Math.floor(data.length / 2)), { flag: 'wx' });
      throw Object.assign(new Error(`${code}: no space left on device, write`), { code, errno: -28, syscall: 'write' });
    };
  }

  for (const code of ['ENOSPC', 'EDQUOT']) {
    it(`turns ${code} into NO_SPACE, leaves no partial file, and recovers when space is back`, async () => {
      const state = { full: true };
      const { derivatives, source, cacheDir, failures } = await setUp({ writeFile: failingWrite(code, state) });
      const photo = await source('photo.jpg', noisyJpeg(1200, 900));
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => derivatives.ensure(photo, 'medium')));
      for (const result of results) hasCode('NO_SPACE')(result.status === 'rejected' ? result.reason : 'resolved');
      assert.deepEqual(await entriesUnder(cacheDir), []);
      assert.equal(failures().length, 1);
      assert.equal(failures()[0]?.['level'], 50, 'logged as an error');
      state.full = false;
      const file = await derivatives.ensure(photo, 'medium');
      assert.equal((await sharp(file).metadata()).width, 1200);
    });
  }

  it('calls any other write failure WRITE_FAILED', async () => {
    const { derivatives, source, cacheDir } = await setUp({
      writeFile: async () => {
        throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      },
    });
    await assert.rejects(derivatives.ensure(await source('a.jpg', noisyJpeg(300, 200)), 'thumb'), hasCode('WRITE_FAILED'));
    assert.deepEqual(await entriesUnder(cacheDir), []);
  });

  it('on a real 2 MB tmpfs: NO_SPACE, every file left decodes, no temp file, recovery after freeing space', async (t) => {
    const mountPoint = await mkdtemp(path.join(workDir, 'tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a tmpfs here (needs root); the injected-fault tests above cover the logic');
      return;
    }
    try {
      const cacheDir = path.join(mountPoint, 'cache');
      const { derivatives, source } = await setUp({ cacheDir, concurrency: 1 });
      const filler = path.join(mountPoint, 'filler');
      await writeFile(filler, Buffer.alloc(2 * 1024 * 1024 - 160 * 1024));
      const photos = [await source('a.jpg', noisyJpeg(2400, 1800, 3)), await source('b.jpg', noisyJpeg(2400, 1800, 4))];
      const attempts = await Promise.allSettled(photos.map((photo) => derivatives.ensureAll(photo)));
      const rejected = attempts.filter((attempt) => attempt.status === 'rejected');
      assert.ok(rejected.length > 0, 'the disk filled up');
      for (const attempt of rejected) assert.ok(hasCode('NO_SPACE')(attempt.reason));
      const left = await entriesUnder(cacheDir);
      assert.deepEqual(left.filter((entry) => path.basename(entry).startsWith('.')), [], 'no temp file');
      for (const entry of left) await sharp(await readFile(path.join(cacheDir, entry))).stats();
      await unlink(filler);
      // Two photos' worth do not fit in 2 MB; one does.
      const [first] = photos;
      assert.ok(first);
      for (const file of Object.values(await derivatives.ensureAll(first))) await sharp(await readFile(file)).stats();
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });
});

describe('cleaning the cache', () => {
  /** A cache with real derivatives, and traps: links out of the cache and files that are not ours. */
  async function plantedCache() {
    const context = await setUp();
    const { derivatives, source, cacheDir, root } = context;
    const x = await source('x.jpg', flatImage(700, 500).jpeg().toBuffer());
    const y = await source('y.jpg', flatImage(700, 500).jpeg().toBuffer());
    await derivatives.ensureAll(x);
    await derivatives.ensureAll(y);
    const outside = path.join(root, 'outside');
    await mkdir(outside);
    const outsideFiles = ['x.jpg.0123456789ab.webp', '.tmp-precious', 'y.jpg.0123456789ab.webp'];
    for (const name of outsideFiles) await writeFile(path.join(outside, name), 'keep me');
    const album = path.join(cacheDir, 'thumb', 'Album');
    await symlink(path.join(outside, 'x.jpg.0123456789ab.webp'), path.join(album, 'x.jpg.aaaaaaaaaaaa.webp'));
    await symlink(path.join(outside, '.tmp-precious'), path.join(album, '.tmp-link'));
    await symlink(outside, path.join(cacheDir, 'thumb', 'Linked'));
    await symlink(outside, path.join(cacheDir, 'poster'));
    await writeFile(path.join(album, 'notes.txt'), 'not ours');
    await writeFile(path.join(album, '.tmp-crashed1'), 'half');
    await mkdir(path.join(cacheDir, 'large', 'Album', 'Deep'), { recursive: true });
    await writeFile(path.join(cacheDir, 'large', 'Album', 'Deep', '.tmp-crashed2'), 'half');
    const outsideIntact = async () => {
      for (const name of outsideFiles) assert.equal(await readFile(path.join(outside, name), 'utf8'), 'keep me', name);
      for (const link of [path.join(album, 'x.jpg.aaaaaaaaaaaa.webp'), path.join(album, '.tmp-link'), path.join(cacheDir, 'thumb', 'Linked')]) {
        assert.ok((await lstat(link)).isSymbolicLink(), link);
      }
    };
    return { ...context, x, y, album, outsideIntact };
  }

  it('removeFor deletes every variant of one original and nothing else', async () => {
    const { derivatives, cacheDir, outsideIntact, album } = await plantedCache();
    assert.equal(await derivatives.removeFor('Album', 'x.jpg'), 4);
    assert.equal(await derivatives.removeFor('Linked', 'x.jpg'), 0, 'a linked album folder is not entered');
    const left = await entriesUnder(cacheDir);
    assert.equal(left.filter((entry) => path.basename(entry).startsWith('y.jpg.')).length, 4);
    assert.deepEqual(left.filter((entry) => /^x\.jpg\.[0-9a-f]{12}\.webp$/.test(path.basename(entry))), ['thumb/Album/x.jpg.aaaaaaaaaaaa.webp']);
    assert.equal(await readFile(path.join(album, 'notes.txt'), 'utf8'), 'not ours');
    await outsideIntact();
  });

  it('removeVersion deletes exactly one version of an original', async () => {
    const { derivatives, source, x } = await plantedCache();
    const changed = await source('x.jpg', flatImage(900, 500).jpeg().toBuffer());
    assert.notEqual(changed.size, x.size);
    const current = await derivatives.ensureAll(changed);
    assert.equal(await derivatives.removeVersion(x), 4);
    for (const file of Object.values(current)) assert.ok((await lstat(file)).isFile());
  });

  it('pruneOrphans deletes stale, orphaned and unconfigured-variant files only', async () => {
    const { derivatives, source, cacheDir, x, outsideIntact } = await plantedCache();
    const changedX = await source('x.jpg', flatImage(900, 500).jpeg().toBuffer());
    const current = await derivatives.ensureAll(changedX);
    await mkdir(path.join(cacheDir, 'xl', 'Album'), { recursive: true });
    await writeFile(path.join(cacheDir, 'xl', 'Album', derivatives.leafFor(x, 'large')), 'old preset');
    // The catalogue knows only the new x; y is gone.
    const lookup = (albumPath: string, name: string) => (albumPath === 'Album' && name === 'x.jpg' ? changedX : undefined);
    assert.equal(await derivatives.pruneOrphans(lookup), 4 + 4 + 1);
    const left = (await entriesUnder(cacheDir)).sort();
    const expected = [
      ...Object.values(current).map((file) => path.relative(cacheDir, file)),
      'large/Album/Deep/.tmp-crashed2',
      'poster',
      'thumb/Album/.tmp-crashed1',
      'thumb/Album/.tmp-link',
      'thumb/Album/notes.txt',
      'thumb/Album/x.jpg.aaaaaaaaaaaa.webp',
      'thumb/Linked',
    ].sort();
    assert.deepEqual(left, expected);
    await assert.rejects(lstat(path.join(cacheDir, 'xl', 'Album')), { code: 'ENOENT' }, 'emptied album folders go');
    await outsideIntact();
  });

  it('removeStaleTemp deletes crash leftovers, never a link or a temp file being written', async () => {
    const { derivatives, cacheDir, outsideIntact, source } = await plantedCache();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = createDerivatives({
      cacheDir,
      log: createLogger('silent'),
      writeFile: async (file, data) => {
        await writeFile(file, data, { flag: 'wx' });
        await gate;
      },
    });
    const writing = slow.ensure(await source('z.jpg', flatImage(300, 300).jpeg().toBuffer()), 'thumb');
    for (let waited = 0; waited < 5_000; waited += 10) {
      if ((await entriesUnder(cacheDir)).some((entry) => /\.tmp-[0-9a-f]{12}$/.test(entry))) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(await slow.removeStaleTemp(), 2, 'the two planted leftovers, not the one being written');
    release();
    assert.ok((await lstat(await writing)).isFile());
    assert.equal(await derivatives.removeStaleTemp(), 0);
    assert.deepEqual((await entriesUnder(cacheDir)).filter((entry) => path.basename(entry).startsWith('.tmp-')), ['thumb/Album/.tmp-link']);
    await outsideIntact();
  });
});
