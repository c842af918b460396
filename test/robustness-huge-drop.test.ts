import assert from 'node:assert/strict';
import { link, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { Client } from './helpers/client.js';
import { makeJpeg, makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { eventually, memoryOf, openFileCount, serveProcess, type ServerProcess } from './helpers/robustness-process.js';

/**
 * Case 7 of issue 8: the admin drops 20,000 photos in 2,000 folders into the media root of a
 * running server, under the open-file limit many boxes ship with (1024). The server must not
 * fall over (EMFILE), its memory must stay bounded, no half-copied photo may be catalogued or
 * turned into a derivative, and the catalogue must end up exact.
 */

const TOP_FOLDERS = 20;
const FOLDERS_PER_TOP = 100;
const PHOTOS_PER_FOLDER = 10;
const TOTAL = TOP_FOLDERS * FOLDERS_PER_TOP * PHOTOS_PER_FOLDER;
/** Copied the slow way, chunk by chunk, as over a network share. */
const SLOW_COPIES = 20;
const SLOW_SIZE = { width: 1600, height: 1200 };
/** Synced the way rsync and Syncthing do it: a new folder, each file written under a hidden temp name, then renamed. */
const SYNCED_FOLDERS = 20;
const SYNCED_PER_FOLDER = 5;
const EXPECTED = TOTAL + SLOW_COPIES + SYNCED_FOLDERS * SYNCED_PER_FOLDER;
const INGEST_DEADLINE_MS = 120_000;
/** Give up early once the count has not moved for this long: nothing more is coming. */
const STALL_MS = 30_000;
const PEAK_RSS_BOUND_MIB = 768;

const topName = (top: number) => `Drop ${String(top).padStart(2, '0')}`;
const folderName = (folder: number) => `Day ${String(folder).padStart(3, '0')}`;

/** Runs `work` over `items`, `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * rsync's and Syncthing's way into a new folder: every file is written as `.name.XXXXXX`, then
 * renamed into place, `delayMs` after the folder appeared (a transfer takes a moment).
 */
async function syncInto(folder: string, names: readonly string[], template: string, delayMs: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  const bytes = await readFile(template);
  const temps = names.map((name) => path.join(folder, `.${name}.${Math.random().toString(36).slice(2, 8)}`));
  for (const temp of temps) await writeFile(temp, bytes);
  await sleep(delayMs);
  await Promise.all(names.map((name, index) => rename(temps[index]!, path.join(folder, name))));
}

/** Writes `bytes` in eight pieces with pauses in between (well under the watcher's 1 s settle time). */
async function copySlowly(file: string, bytes: Buffer): Promise<void> {
  // As a copy does: its folder first (the drop's own links may not have reached that folder yet).
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'wx');
  try {
    const piece = Math.ceil(bytes.length / 8);
    for (let offset = 0; offset < bytes.length; offset += piece) {
      await handle.write(bytes, offset, Math.min(piece, bytes.length - offset), offset);
      await sleep(60);
    }
  } finally {
    await handle.close();
  }
}

describe('a huge drop into the media root of a running server', () => {
  let server: ServerProcess;
  let stateDir: string;
  let mediaRoot: string;
  let client: Client;
  const samples = { rss: [] as number[], files: [] as number[] };
  let sampler: NodeJS.Timeout | undefined;

  before(async () => {
    mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    stateDir = await tempDir('keepsake-state-');
    server = await serveProcess({ KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir }, { maxOpenFiles: 1024 });
    client = new Client(server.url);
    assert.equal((await client.login(server.firstPassword!)).status, 303);
    sampler = setInterval(() => {
      memoryOf(server.pid).then((memory) => samples.rss.push(memory.rssMiB), () => undefined);
      openFileCount(server.pid).then((count) => samples.files.push(count), () => undefined);
    }, 250);
  });

  after(async () => {
    clearInterval(sampler);
    await server.kill();
  });

  it(`catalogues all ${TOTAL} photos exactly, with bounded memory, no EMFILE crash, no half-copied photo`, async (t) => {
    const templates = await tempDir('keepsake-templates-');
    const colours = ['#c04040', '#40c040', '#4040c0', '#c0c040', '#40c0c0', '#c040c0', '#804020', '#208040', '#402080', '#808080'];
    const templateFiles = colours.map((_, index) => path.join(templates, `t${index}.jpg`));
    for (const [index, colour] of colours.entries()) await makeJpeg(templateFiles[index]!, { width: 48, height: 32, colour });
    const slowBytes = await sharp({ create: { ...SLOW_SIZE, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .jpeg({ quality: 85 })
      .toBuffer();
    const fdsBefore = await openFileCount(server.pid);
    const started = Date.now();

    // The drop: folders and hard links of the templates (a new directory entry each, as a copy makes).
    const folders = Array.from({ length: TOP_FOLDERS * FOLDERS_PER_TOP }, (_, index) =>
      path.join(mediaRoot, topName(Math.floor(index / FOLDERS_PER_TOP)), folderName(index % FOLDERS_PER_TOP)),
    );
    const slow = Array.from({ length: SLOW_COPIES }, (_, index) => path.join(mediaRoot, topName(index % TOP_FOLDERS), `slow-${index}.jpg`));
    const synced = Array.from({ length: SYNCED_FOLDERS }, (_, index) => path.join(mediaRoot, topName(index % TOP_FOLDERS), `Synced ${index}`));
    const syncedNames = Array.from({ length: SYNCED_PER_FOLDER }, (_, index) => `DSC_${index}.jpg`);
    const dropping = inParallel(folders, 16, async (folder) => {
      await mkdir(folder, { recursive: true });
      for (let photo = 0; photo < PHOTOS_PER_FOLDER; photo += 1) await link(templateFiles[photo]!, path.join(folder, `IMG_${photo}.jpg`));
    });
    await sleep(500);
    await Promise.all([
      inParallel(slow, 4, (file) => copySlowly(file, slowBytes)),
      Promise.all(synced.map((folder, index) => syncInto(folder, syncedNames, templateFiles[0]!, index * 15))),
    ]);
    await dropping;
    const copiedMs = Date.now() - started;

    const db = new Database(path.join(stateDir, 'keepsake.db'), { readonly: true });
    const catalogued = () => db.prepare("SELECT COUNT(*) FROM media WHERE album_path LIKE 'Drop %'").pluck().get() as number;
    try {
      let last = { count: -1, at: Date.now() };
      const done = await eventually(
        () => {
          const count = catalogued();
          if (count !== last.count) last = { count, at: Date.now() };
          return count === EXPECTED || Date.now() - last.at > STALL_MS;
        },
        INGEST_DEADLINE_MS - (Date.now() - started),
        500,
      ).then(() => catalogued() === EXPECTED);
      const ingestMs = Date.now() - started;
      const memory = await memoryOf(server.pid);
      t.diagnostic(
        `copied in ${(copiedMs / 1000).toFixed(1)} s, catalogued ${catalogued()} of ${EXPECTED} in ${(ingestMs / 1000).toFixed(1)} s; ` +
          `RSS before ${samples.rss[0] ?? '?'} MiB, peak ${memory.peakRssMiB} MiB, now ${memory.rssMiB} MiB; ` +
          `open files ${fdsBefore} before, peak ${Math.max(...samples.files)}, ${await openFileCount(server.pid)} after (limit 1024); ` +
          `EMFILE mentioned ${(server.output().match(/EMFILE|too many open files/gi) ?? []).length} times in the log`,
      );
      if (!done) {
        const have = new Set(db.prepare("SELECT album_path || '/' || name FROM media WHERE album_path LIKE 'Drop %'").pluck().all() as string[]);
        const dropped = [
          ...folders.flatMap((folder) => Array.from({ length: PHOTOS_PER_FOLDER }, (_, photo) => path.join(folder, `IMG_${photo}.jpg`))),
          ...slow,
          ...synced.flatMap((folder) => syncedNames.map((name) => path.join(folder, name))),
        ].map((file) => path.relative(mediaRoot, file));
        const missing = dropped.filter((file) => !have.has(file));
        const logged = server.output().split('\n').filter((line) => /"level":(40|50|60)/.test(line) && !/symlink-outside/.test(line));
        assert.fail(
          `the catalogue misses ${missing.length} of ${EXPECTED} dropped photos for good (no change for ${STALL_MS / 1000} s): ` +
            `${missing.slice(0, 8).join(', ')}\nserver warnings and errors (last 10):\n${logged.slice(-10).join('\n')}`,
        );
      }
      assert.equal(server.child.exitCode, null, `the server is still running:\n${server.output().slice(-2000)}`);
      assert.ok(memory.peakRssMiB < PEAK_RSS_BOUND_MIB, `peak RSS ${memory.peakRssMiB} MiB`);
      assert.equal(db.prepare("SELECT COUNT(*) FROM albums WHERE path LIKE 'Drop %'").pluck().get(), TOP_FOLDERS * (FOLDERS_PER_TOP + 1) + SYNCED_FOLDERS);
    } finally {
      db.close();
    }

    // What a visitor sees: every album with all its photos, through the API.
    let photos = 0;
    for (let top = 0; top < TOP_FOLDERS; top += 1) {
      const response = await client.get(`/api/albums/${encodeURIComponent(topName(top))}`);
      assert.equal(response.status, 200);
      const listing = (await response.json()) as { albums: { photoCount: number }[]; items: { name: string; width: number; urls: Record<string, string> }[] };
      assert.equal(listing.albums.length, FOLDERS_PER_TOP + SYNCED_FOLDERS / TOP_FOLDERS);
      photos += listing.albums.reduce((sum, album) => sum + album.photoCount, 0) + listing.items.length;
      // The slowly copied photos were read whole: full size, and thumbnails with noise to the last row.
      for (const item of listing.items) {
        assert.equal(item.width, SLOW_SIZE.width, `${item.name} catalogued whole`);
        const thumb = await client.get(item.urls['small']!);
        assert.equal(thumb.status, 200);
        const bytes = Buffer.from(await thumb.arrayBuffer());
        const { height = 0, width = 0 } = await sharp(bytes).metadata();
        const bottom = await sharp(bytes).extract({ left: 0, top: height - Math.ceil(height / 10), width, height: Math.ceil(height / 10) }).stats();
        assert.ok(bottom.channels.every((channel) => channel.stdev > 10), `${item.name}: the bottom rows are photo, not the grey of a cut-off file`);
      }
    }
    assert.equal(photos, EXPECTED, 'the API shows every photo');
    assert.equal((await client.get('/healthz')).status, 200);
    assert.doesNotMatch(server.output(), /"level":60/, 'nothing fatal logged');
  });

  it('a photo synced into a folder while the watcher is still reading that folder is catalogued', async (t) => {
    // A folder of 2,000 photos moved in at once (one rename), and moments later one more photo
    // arrives in it the rsync way: the watcher is still listing the folder when it lands.
    const staging = await tempDir('keepsake-staging-');
    const template = path.join(staging, 'template.jpg');
    await makeJpeg(template, { width: 40, height: 30 });
    // Arrival delays on a rough log scale, from at once to well after the folder listing began.
    const delays = [0, 5, 30, 160];
    const arrivals: string[] = [];
    for (const delay of delays) {
      const staged = path.join(staging, `Moved in ${delay}`);
      await mkdir(staged);
      for (let photo = 0; photo < 2_000; photo += 1) await link(template, path.join(staged, `P${photo}.jpg`));
    }
    await Promise.all(
      delays.map(async (delay) => {
        const folder = path.join(mediaRoot, `Moved in ${delay}`);
        await rename(path.join(staging, `Moved in ${delay}`), folder);
        await sleep(delay);
        const temp = path.join(folder, '.late.jpg.XXXXXX');
        await writeFile(temp, await readFile(template));
        await rename(temp, path.join(folder, 'late.jpg'));
        arrivals.push(`Moved in ${delay}/late.jpg`);
      }),
    );
    const db = new Database(path.join(stateDir, 'keepsake.db'), { readonly: true });
    try {
      const count = () => db.prepare("SELECT COUNT(*) FROM media WHERE album_path LIKE 'Moved in %'").pluck().get() as number;
      let last = { count: -1, at: Date.now() };
      await eventually(() => {
        const now = count();
        if (now !== last.count) last = { count: now, at: Date.now() };
        return now === delays.length * 2_001 || Date.now() - last.at > 10_000;
      }, 90_000, 250);
      const have = new Set(db.prepare("SELECT album_path || '/' || name FROM media WHERE name = 'late.jpg'").pluck().all() as string[]);
      const missing = arrivals.filter((file) => !have.has(file));
      t.diagnostic(`catalogued ${count()} of ${delays.length * 2_001}; late arrivals missing: ${missing.length === 0 ? 'none' : missing.join(', ')}`);
      assert.deepEqual(missing, [], 'every late arrival is catalogued');
      assert.equal(count(), delays.length * 2_001);
    } finally {
      db.close();
    }
  });
});
