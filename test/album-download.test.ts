import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { NOT_FOUND_BODY } from '../src/media-contract.js';
import { createZipWriter, entryOptions, yazl } from '../src/http/zip-writer.js';
import { BROWSER_HEADERS, Client, cookieHeader } from './helpers/client.js';
import { makeJpeg, makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { makeRaw } from './helpers/raws.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { makeVideo, VIDEO_TOOLS_MISSING } from './helpers/videos.js';

const run = promisify(execFile);
const UNZIP = '/usr/bin/unzip';
const UNZIP_MISSING = existsSync(UNZIP) ? undefined : `${UNZIP} is not installed (Debian package unzip)`;
const needsUnzip = { skip: process.env['CI'] ? false : UNZIP_MISSING };
const needsVideo = { skip: process.env['CI'] ? false : (UNZIP_MISSING ?? VIDEO_TOOLS_MISSING) };

const FAMILY = 'family downloads everything';
const VIEWER = 'viewer gets large copies';
const KIDS = 'kids albums only please';
const HEAVY_PHOTOS = 16;

/** What the album page link does: each segment of the album path URI-encoded. */
function downloadPath(albumPath: string): string {
  return `/download/${albumPath.split('/').map(encodeURIComponent).join('/')}`;
}

async function postDownload(client: Client, albumPath: string, headers: Record<string, string> = {}): Promise<Response> {
  return client.request(downloadPath(albumPath), { method: 'POST', headers });
}

/** A ZIP answer written to a temp file, with unzip's view of it. */
interface Archive {
  readonly file: string;
  /** Entry names as stored, folders with their trailing slash. */
  readonly names: string[];
  read(name: string): Promise<Buffer>;
}

async function saveArchive(response: Response): Promise<Archive> {
  assert.equal(response.status, 200, `status ${response.status}: ${response.status === 200 ? '' : await response.clone().text()}`);
  const file = path.join(await tempDir('keepsake-zip-'), 'album.zip');
  await writeFile(file, Buffer.from(await response.arrayBuffer()));
  await run(UNZIP, ['-tqq', file]);
  const { stdout } = await run('/usr/bin/zipinfo', ['-1', file]);
  const names = stdout.split('\n').filter((line) => line !== '');
  return {
    file,
    names,
    // unzip reads a name as a wildcard pattern: brackets and stars are escaped.
    read: async (name) => (await run(UNZIP, ['-p', file, name.replace(/[[\]*?]/g, '\\$&')], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 })).stdout,
  };
}

function files(archive: Archive): string[] {
  return archive.names.filter((name) => !name.endsWith('/')).sort();
}

/** Every original's bytes under the media root (links not followed), to prove none leaks into a derivative download. */
async function allOriginals(root: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.push(await readFile(path.join(entry.parentPath, entry.name)));
  }
  return found;
}

/** The number of descriptors this process has open (the server runs in it). */
async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

/**
 * A POST whose answer is read until `bytes` have come, then the connection is cut, as a visitor
 * closing the tab mid-download. Resolves with the status and what was read.
 */
function abortAfter(url: string, cookie: string, bytes: number): Promise<{ status: number; read: number }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', agent: false, headers: { ...BROWSER_HEADERS, cookie } }, (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= bytes) {
          outgoing.destroy();
          resolve({ status: response.statusCode ?? 0, read });
        }
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, read }));
      response.on('error', () => undefined);
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') reject(error);
    });
    outgoing.end();
  });
}

describe('downloading an album as one ZIP', () => {
  let server: TestServer;
  let family: Client;
  let viewer: Client;
  let kids: Client;

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    // Bigger than `large`, with what a camera writes that no copy may carry.
    await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#208040' } })
      .jpeg()
      .withExif({ IFD0: { Artist: 'Grandpa Joe', Make: 'KeepsakeCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 40/1' } })
      .toFile(path.join(mediaRoot, 'Summer 2024', 'big photo.jpg'));
    // Same base name as beach.jpg: their `large` copies would both be beach.<ext>.
    await sharp({ create: { width: 80, height: 60, channels: 3, background: '#a0a0ff' } }).png().toFile(path.join(mediaRoot, 'Summer 2024', 'beach.png'));
    await makeJpeg(path.join(mediaRoot, 'Raw Pair', 'IMG_0001.jpg'), { width: 600, height: 400 });
    await makeRaw(path.join(mediaRoot, 'Raw Pair', 'IMG_0001.DNG'), { kind: 'dng' });
    await makeJpeg(path.join(mediaRoot, 'Ünïcode Ålbum', 'ok.jpg'));
    // Heavy: a noisy photo linked many times over (about 60 MB), so a download is still going when its visitor leaves.
    await mkdir(path.join(mediaRoot, 'Heavy'), { recursive: true });
    const noise = path.join(await tempDir('keepsake-noise-'), 'noise.jpg');
    await sharp({ create: { width: 2400, height: 1600, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 50 } } }).jpeg({ quality: 95 }).toFile(noise);
    for (let index = 0; index < HEAVY_PHOTOS; index += 1) await link(noise, path.join(mediaRoot, 'Heavy', `noise-${index}.jpg`));
    for (const name of ['keep-1.jpg', 'keep-2.jpg', 'swapped.jpg', 'vanishing.jpg']) await makeJpeg(path.join(mediaRoot, 'Swaps', name));
    server = await startTestServer({
      mediaRoot,
      keys: [
        { label: 'relatives', password: FAMILY },
        { label: 'viewer', password: VIEWER, canDownloadOriginals: false },
        { label: 'kids', password: KIDS, albums: ['Kids/*'] },
      ],
    });
    family = new Client(server.url);
    viewer = new Client(server.url);
    kids = new Client(server.url);
    for (const [client, password] of [[family, FAMILY], [viewer, VIEWER], [kids, KIDS]] as const) assert.equal((await client.login(password)).status, 303);
  });
  after(() => server?.close());

  it('gives a key that allows originals every original, byte for byte, sub-albums as folders, stored rather than deflated', needsUnzip, async () => {
    const response = await postDownload(family, 'Summer 2024');
    assert.equal(response.headers.get('content-type'), 'application/zip');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(response.headers.get('content-disposition') ?? '', /^attachment; filename="Summer 2024\.zip"/);
    assert.equal(response.headers.get('x-robots-tag'), 'noindex, nofollow, noimageindex');
    const archive = await saveArchive(response);
    assert.deepEqual(files(archive), ['Day Two/pier.jpg', 'beach.jpg', 'beach.png', 'big photo.jpg', 'sunset glow.jpg']);
    for (const name of files(archive)) {
      assert.deepEqual(await archive.read(name), await readFile(path.join(server.mediaRoot, 'Summer 2024', name)), name);
    }
    const { stdout } = await run(UNZIP, ['-v', archive.file]);
    const methods = stdout.split('\n').filter((line) => /\d{2}:\d{2}/.test(line)).map((line) => line.trim().split(/\s+/)[1]);
    assert.ok(methods.length >= 5 && methods.every((method) => method === 'Stored'), `methods: ${methods.join(' ')}`);
  });

  it('gives a RAW+JPEG pair as its RAW, as the viewer\'s download does', needsUnzip, async () => {
    const archive = await saveArchive(await postDownload(family, 'Raw Pair'));
    assert.deepEqual(files(archive), ['IMG_0001.DNG']);
    assert.deepEqual(await archive.read('IMG_0001.DNG'), await readFile(path.join(server.mediaRoot, 'Raw Pair', 'IMG_0001.DNG')));
  });

  it('gives a key without originals the `large` copies, with no metadata, under distinct names, and never an original', needsUnzip, async () => {
    const archive = await saveArchive(await postDownload(viewer, 'Summer 2024'));
    const names = files(archive);
    assert.equal(names.length, 5, names.join(', '));
    assert.equal(new Set(names.map((name) => name.toLowerCase())).size, 5, 'no two entries share a name');
    assert.ok(names.includes('Day Two/pier.webp') || names.includes('Day Two/pier.jpg'), names.join(', '));
    const originals = await allOriginals(server.mediaRoot);
    for (const name of names) {
      const bytes = await archive.read(name);
      assert.ok(!originals.some((original) => original.equals(bytes)), `${name} is an original`);
      const metadata = await sharp(bytes).metadata();
      assert.equal(path.extname(name).slice(1), metadata.format === 'jpeg' ? 'jpg' : metadata.format, `${name} is named by what it is`);
      assert.ok((metadata.width ?? 0) <= 2048 && (metadata.height ?? 0) <= 2048, `${name} is ${metadata.width}×${metadata.height}`);
      assert.equal(metadata.exif, undefined, `${name} carries no EXIF (GPS, artist)`);
    }
    const big = names.find((name) => name.startsWith('big photo.'))!;
    assert.equal((await sharp(await archive.read(big)).metadata()).width, 2048, 'the large copy of a big photo');
  });

  it('names a non-ASCII album in the attachment with RFC 5987', needsUnzip, async () => {
    const response = await postDownload(family, 'Ünïcode Ålbum');
    const disposition = response.headers.get('content-disposition') ?? '';
    assert.match(disposition, /^attachment; filename="[\x20-\x7e]+\.zip"; filename\*=UTF-8''%C3%9Cn%C3%AFcode%20%C3%85lbum\.zip$/);
    assert.deepEqual(files(await saveArchive(response)), ['ok.jpg']);
  });

  it('never starts a download on GET or HEAD (a link preview or a prefetch)', async () => {
    for (const method of ['GET', 'HEAD']) {
      const response = await family.request(downloadPath('Summer 2024'), { method });
      assert.ok([404, 405].includes(response.status), `${method} answered ${response.status}`);
      assert.notEqual(response.headers.get('content-type'), 'application/zip', method);
      assert.equal(response.headers.get('content-disposition'), null, method);
    }
  });

  it('refuses a POST from another site', async () => {
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      const response = await postDownload(family, 'Summer 2024', headers);
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.notEqual(response.headers.get('content-type'), 'application/zip');
    }
  });

  it('answers an album the key does not see exactly as the album page does', async () => {
    for (const album of ['Summer 2024', 'Kids', 'No Such Album', '.hidden']) {
      const page = await kids.get(`/albums/${album.split('/').map(encodeURIComponent).join('/')}`);
      const download = await postDownload(kids, album);
      assert.equal(page.status, 404, album);
      assert.equal(download.status, 404, album);
      assert.equal(await download.text(), NOT_FOUND_BODY, album);
    }
    for (const encoded of ['/download/', '/download/%2e%2e/Kids', '/download/Kids%2fAlice%00']) {
      assert.equal((await kids.request(encoded, { method: 'POST' })).status, 404, encoded);
    }
    // fetch resolves `..` itself and posts to `/`, the gallery's page, which takes only GET.
    const dotDot = await kids.request('/download/..', { method: 'POST' });
    assert.deepEqual([dotDot.status, dotDot.headers.get('content-type')?.startsWith('application/zip') ?? false], [405, false]);
  });

  it('refuses a visitor who is not logged in', async () => {
    const response = await postDownload(new Client(server.url), 'Summer 2024');
    assert.ok([401, 303].includes(response.status), `answered ${response.status}`);
    assert.notEqual(response.headers.get('content-type'), 'application/zip');
  });

  it('leaves out a file swapped for a link, and one that vanished, and sends the rest', needsUnzip, async () => {
    const album = path.join(server.mediaRoot, 'Swaps');
    await unlink(path.join(album, 'swapped.jpg'));
    await symlink('/etc/passwd', path.join(album, 'swapped.jpg'));
    await rm(path.join(album, 'vanishing.jpg'));
    const archive = await saveArchive(await postDownload(family, 'Swaps'));
    const passwd = await readFile('/etc/passwd');
    for (const name of files(archive)) assert.ok(!(await archive.read(name)).equals(passwd), `${name} is /etc/passwd`);
    assert.ok(files(archive).includes('keep-1.jpg') && files(archive).includes('keep-2.jpg'), files(archive).join(', '));
    assert.ok(!files(archive).includes('vanishing.jpg'));
  });

  it('stops its work when the visitor goes mid-download, and the server carries on', needsUnzip, async () => {
    const before = await openDescriptors();
    for (let round = 0; round < 3; round += 1) {
      const cut = await abortAfter(`${server.url}${downloadPath('Heavy').slice(1)}`, cookieHeader(family), 64 * 1024);
      assert.equal(cut.status, 200);
    }
    // The descriptors of the files being sent are closed once the connection is gone.
    const deadline = Date.now() + 5000;
    const cutShort = () => server.logLines.filter((line) => line['msg'] === 'album download' && line['complete'] === false).length;
    while (((await openDescriptors()) > before + 2 || cutShort() < 3) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok((await openDescriptors()) <= before + 2, `${await openDescriptors()} descriptors open, ${before} before`);
    assert.equal(cutShort(), 3, 'each cut download stopped short of its end');
    assert.equal((await family.get('/api/me')).status, 200);
    const archive = await saveArchive(await postDownload(family, 'Heavy'));
    assert.equal(files(archive).length, HEAVY_PHOTOS);
  });
});

describe('a video in an album download', needsVideo, () => {
  let server: TestServer;

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeVideo(path.join(mediaRoot, 'Clips', 'party.mov'), { location: '+48.8584+002.2945/' });
    // A Live Photo: the photo and its clip of the same name, one item in the album.
    await makeJpeg(path.join(mediaRoot, 'Live', 'IMG_0100.jpg'));
    await makeVideo(path.join(mediaRoot, 'Live', 'IMG_0100.MOV'), { seconds: 2, location: '+48.8584+002.2945/' });
    server = await startTestServer({
      mediaRoot,
      keys: [
        { label: 'relatives', password: FAMILY },
        { label: 'viewer', password: VIEWER, canDownloadOriginals: false },
      ],
    });
  });
  after(() => server?.close());

  it('is the file as recorded for a key that allows originals, its playable copy for one that does not', async () => {
    const family = new Client(server.url);
    const viewer = new Client(server.url);
    await family.login(FAMILY);
    await viewer.login(VIEWER);
    const original = await saveArchive(await postDownload(family, 'Clips'));
    assert.deepEqual(files(original), ['party.mov']);
    assert.deepEqual(await original.read('party.mov'), await readFile(path.join(server.mediaRoot, 'Clips', 'party.mov')));
    const copy = await saveArchive(await postDownload(viewer, 'Clips'));
    assert.deepEqual(files(copy), ['party.mp4']);
    const bytes = await copy.read('party.mp4');
    assert.ok(!bytes.includes(Buffer.from('+48.8584')), 'the copy carries no place');
  });

  it('holds a Live Photo\'s clip beside its photo: as recorded with originals, as its playable copy without', async () => {
    const family = new Client(server.url);
    const viewer = new Client(server.url);
    await family.login(FAMILY);
    await viewer.login(VIEWER);
    const original = await saveArchive(await postDownload(family, 'Live'));
    assert.deepEqual(files(original), ['IMG_0100.MOV', 'IMG_0100.jpg']);
    for (const name of files(original)) assert.deepEqual(await original.read(name), await readFile(path.join(server.mediaRoot, 'Live', name)), name);
    const copy = await saveArchive(await postDownload(viewer, 'Live'));
    const names = files(copy);
    assert.equal(names.length, 2, names.join(', '));
    assert.ok(names.includes('IMG_0100.mp4'), names.join(', '));
    assert.ok(!(await copy.read('IMG_0100.mp4')).includes(Buffer.from('+48.8584')), 'the clip\'s copy carries no place');
  });
});

describe('album downloads against the media budget', () => {
  it('spends one request per entry before any byte, and answers 429 with Retry-After once the budget is spent', async () => {
    const stateDir = await tempDir('keepsake-state-');
    await writeFile(path.join(stateDir, 'keepsake.config.json'), JSON.stringify({ guard: { rates: { perSession: { burst: 5, perSecond: 1 }, tripwire: { enabled: false } } } }));
    const server = await startTestServer({ stateDir, keys: [{ label: 'relatives', password: FAMILY }] });
    try {
      const client = new Client(server.url);
      await client.login(FAMILY);
      // Summer 2024 holds three photos (two above, one in Day Two): within the burst of five.
      const first = await postDownload(client, 'Summer 2024');
      assert.equal(first.status, 200);
      await first.arrayBuffer();
      const refused = await postDownload(client, 'Summer 2024');
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1, `Retry-After ${refused.headers.get('retry-after')}`);
      assert.notEqual(refused.headers.get('content-type'), 'application/zip');
      assert.match(await refused.text(), /try again/i);
    } finally {
      await server.close();
    }
  });
});

describe('the ZIP writer', needsUnzip, () => {
  async function written(build: (zip: ReturnType<typeof createZipWriter>) => Promise<void>, options?: Parameters<typeof createZipWriter>[0]): Promise<string> {
    const zip = createZipWriter(options);
    const chunks: Buffer[] = [];
    zip.output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => zip.output.on('end', resolve));
    await build(zip);
    zip.end();
    await ended;
    const file = path.join(await tempDir('keepsake-zip-'), 'test.zip');
    await writeFile(file, Buffer.concat(chunks));
    return file;
  }

  it('writes ZIP64 records when forced, and unzip reads them', async () => {
    const file = await written(async (zip) => zip.addBytes(Buffer.from('hello'), 'hello.txt', new Date()), { forceZip64: true });
    await run(UNZIP, ['-tqq', file]);
    const bytes = await readFile(file);
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'a ZIP64 end of central directory record');
  });

  it('writes every entry stored, its size declared, so the library sees an entry past 4 GiB needs ZIP64 before its bytes come', () => {
    assert.deepEqual(entryOptions(1234, new Date(0)), { mtime: new Date(0), compress: false, size: 1234 });
    // yazl's own reckoning of the archive (its public calculatedTotalSize), for one entry declared as the writer declares it.
    const planned = (size: number): number => {
      const zip = new yazl.ZipFile();
      const never = new Readable({ read() {} });
      zip.addReadStream(never, 'a', entryOptions(size, new Date(0)));
      let total = -1;
      zip.end({}, (bytes) => (total = bytes));
      never.destroy();
      zip.outputStream.destroy();
      return total;
    };
    const classic = planned(1024) - 1024;
    // A ZIP64 data descriptor (+8), a ZIP64 extra field in the central directory (+28), the ZIP64 end records (+76).
    assert.equal(planned(5 * 1024 ** 3) - 5 * 1024 ** 3 - classic, 8 + 28 + 76);
  });
});
