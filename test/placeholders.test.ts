import assert from 'node:assert/strict';
import { link, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { Client } from './helpers/client.js';
import { writeCameraJpeg } from './helpers/exif-photos.js';
import { makeJpeg, tempDir, waitUntil } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { jpegBytes, makeSandbox, openLibrary, waitFor, writeJpeg, type Sandbox } from './fixtures/library-fixtures.js';

/*
 * Placeholders (a ThumbHash per photo, made in the background after the photo is listed) and when
 * an album last had a photo added, as a visitor's browser reads them from the album API.
 */

interface ItemJson {
  name: string;
  width: number;
  height: number;
  placeholder?: string;
}
interface AlbumJson {
  path: string;
  lastAddedAt: string | null;
}
interface ListingJson {
  album: AlbumJson;
  albums: AlbumJson[];
  items: ItemJson[];
}

/** What a browser painting the placeholder would see: its width over its height. */
function aspectOf(placeholder: string): number {
  const { w, h } = thumbHashToRGBA(Buffer.from(placeholder, 'base64'));
  return w / h;
}

const PASSWORD = 'placeholders for the family';
const BOUND_MS = 10_000;

describe('placeholders and added times over HTTP', () => {
  let server: TestServer;
  let client: Client;
  const at = (relative: string) => path.join(server.mediaRoot, relative);

  async function listing(album: string): Promise<ListingJson> {
    const response = await client.get(`/api/albums/${encodeURIComponent(album).replaceAll('%2F', '/')}`);
    assert.equal(response.status, 200);
    return (await response.json()) as ListingJson;
  }
  async function item(album: string, name: string): Promise<ItemJson | undefined> {
    return (await listing(album)).items.find((entry) => entry.name === name);
  }
  async function topAddedAt(album: string): Promise<string | null | undefined> {
    const { albums } = (await (await client.get('/api/albums')).json()) as { albums: AlbumJson[] };
    return albums.find((entry) => entry.path === album)?.lastAddedAt;
  }
  async function placeholderOf(album: string, name: string): Promise<string> {
    let found: string | undefined;
    await waitUntil(async () => (found = (await item(album, name))?.placeholder) !== undefined, BOUND_MS, `the placeholder of ${album}/${name}`);
    return found!;
  }

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeJpeg(path.join(mediaRoot, 'Family', 'old.jpg'), { width: 120, height: 80 });
    await makeJpeg(path.join(mediaRoot, 'Family', 'Sub', 'resaved.jpg'), { width: 120, height: 80, colour: '#c04020' });
    server = await startTestServer({ mediaRoot, keys: [{ label: 'viewer', password: PASSWORD }] });
    client = new Client(server.url);
    assert.equal((await client.login(PASSWORD)).status, 303);
  });
  after(() => server?.close());

  it('gives photos found by the first scan a placeholder in their shape', async () => {
    assert.ok(Math.abs(aspectOf(await placeholderOf('Family', 'old.jpg')) - 1.5) < 0.15);
    assert.ok(await placeholderOf('Family/Sub', 'resaved.jpg'));
  });

  it('gives a dropped photo its placeholder within seconds, turned upright as its thumbnail is', async (t) => {
    const started = Date.now();
    await writeCameraJpeg(at('Family/Sub/wide.jpg'), { width: 300, height: 200 });
    // Stored 300×200 and tagged "turn a quarter": shown, and so painted, 200×300.
    await writeCameraJpeg(at('Family/Sub/turned.jpg'), { width: 300, height: 200, orientation: 6 });
    const wide = await placeholderOf('Family/Sub', 'wide.jpg');
    const turned = await placeholderOf('Family/Sub', 'turned.jpg');
    const took = Date.now() - started;
    assert.ok(took < BOUND_MS, `took ${took} ms`);
    t.diagnostic(`both placeholders ${took} ms after the drop`);
    assert.ok(Math.abs(aspectOf(wide) - 1.5) < 0.15, `wide: ${aspectOf(wide)}`);
    assert.ok(Math.abs(aspectOf(turned) - 2 / 3) < 0.1, `turned: ${aspectOf(turned)}`);
    assert.ok(Buffer.from(wide, 'base64').length <= 40, 'about 30 bytes');
    const shown = await item('Family/Sub', 'turned.jpg');
    assert.deepEqual([shown?.width, shown?.height], [200, 300]);
  });

  it('moves an album\'s lastAddedAt forward when a photo is dropped into a sub-album', async () => {
    const before = (await listing('Family')).album.lastAddedAt;
    assert.ok(before !== null && !Number.isNaN(Date.parse(before)), String(before));
    assert.equal(await topAddedAt('Family'), before, 'the album index says the same');
    await delay(20);
    await makeJpeg(at('Family/Sub/new.jpg'), { width: 64, height: 64 });
    await waitUntil(async () => (await item('Family/Sub', 'new.jpg')) !== undefined, BOUND_MS, 'the new photo');
    const parent = await listing('Family');
    assert.ok(Date.parse(parent.album.lastAddedAt!) > Date.parse(before), `${parent.album.lastAddedAt} after ${before}`);
    assert.equal(parent.albums.find((album) => album.path === 'Family/Sub')?.lastAddedAt, parent.album.lastAddedAt);
    assert.equal(await topAddedAt('Family'), parent.album.lastAddedAt);
  });

  it('keeps lastAddedAt when an existing photo is saved again, and makes its placeholder anew', async () => {
    const first = await placeholderOf('Family/Sub', 'resaved.jpg');
    const before = (await listing('Family/Sub')).album.lastAddedAt;
    // Saved again by an editor, upright now: a new size, the same name.
    const edited = path.join(server.mediaRoot, 'edited.tmp');
    await makeJpeg(edited, { width: 80, height: 120, colour: '#c04020' });
    await writeFile(at('Family/Sub/resaved.jpg'), await readFile(edited));
    await waitUntil(async () => (await item('Family/Sub', 'resaved.jpg'))?.width === 80, BOUND_MS, 'the re-saved photo');
    await waitUntil(async () => {
      const placeholder = (await item('Family/Sub', 'resaved.jpg'))?.placeholder;
      return placeholder !== undefined && placeholder !== first;
    }, BOUND_MS, 'a new placeholder');
    const after = await item('Family/Sub', 'resaved.jpg');
    assert.ok(Math.abs(aspectOf(after!.placeholder!) - 2 / 3) < 0.1);
    assert.equal((await listing('Family/Sub')).album.lastAddedAt, before);
  });

  it('gives a broken JPEG none, drops it from the catalogue with one warning, and stays healthy', async () => {
    // A photo cut off halfway through its pixels: its header reads, its pixels do not decode.
    const good = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
    const staged = path.join(server.mediaRoot, 'broken.tmp');
    await writeFile(staged, good.subarray(0, Math.floor(good.length * 0.5)));
    await rename(staged, at('Family/broken.jpg'));
    await makeJpeg(at('Family/after-broken.jpg'));
    await placeholderOf('Family', 'after-broken.jpg');
    assert.equal((await item('Family', 'broken.jpg'))?.placeholder, undefined);
    await waitUntil(async () => (await item('Family', 'broken.jpg')) === undefined, BOUND_MS, 'the broken photo to leave the catalogue');
    assert.equal((await client.get('/healthz')).status, 200);
    // Its placeholder, its thumbnail and the catalogue's decode check each failed on it: the admin hears it once.
    const aboutIt = server.logLines.filter((line) => line['path'] === 'Family/broken.jpg' || (line['album'] === 'Family' && line['name'] === 'broken.jpg'));
    const warnings = aboutIt.filter((line) => Number(line['level']) >= 40);
    assert.equal(warnings.length, 1, JSON.stringify(aboutIt));
    assert.equal(warnings[0]?.['reason'], 'unreadable-image');
  });
});

describe('placeholder pass', () => {
  let sandbox: Sandbox;
  before(() => {
    sandbox = makeSandbox();
  });
  after(() => sandbox.remove());

  const placeholderRow = (name: string) =>
    (sandbox.db.prepare('SELECT placeholder FROM media WHERE name = ?').pluck().get(name) as string | null | undefined);

  it('marks a photo that does not decode as having none, quietly, and goes on with the rest', async () => {
    await writeJpeg(path.join(sandbox.mediaRoot, 'A', 'good.jpg'), { width: 40, height: 30 });
    // Its header whole, half its pixels gone.
    const bytes = await jpegBytes({ width: 400, height: 300 });
    await writeFile(path.join(sandbox.mediaRoot, 'A', 'broken.jpg'), bytes.subarray(0, Math.floor(bytes.length * 0.5)));
    // A decode check that lets everything through keeps the broken photo listed, for the pass to meet.
    const opened = openLibrary(sandbox, { checkImage: async () => {} });
    try {
      await opened.library.watch();
      await opened.library.scan();
      assert.ok(opened.library.item('A', 'broken.jpg'), 'listed from its header');
      const made = (name: string) => typeof placeholderRow(name) === 'string';
      await waitFor(() => made('broken.jpg') && made('good.jpg'), BOUND_MS, 'the pass');
      assert.equal(placeholderRow('broken.jpg'), '');
      assert.equal(opened.library.item('A', 'broken.jpg')?.placeholder, undefined);
      assert.ok(opened.library.item('A', 'good.jpg')?.placeholder);
      assert.deepEqual(opened.logged.about('A/broken.jpg'), [], 'nothing logged at info or above');
    } finally {
      await opened.library.close();
    }
  });

  it('makes the placeholders of an album someone opens before the rest', async () => {
    const first = path.join(sandbox.mediaRoot, 'Zeta', 'IMG_0000.jpg');
    await writeJpeg(first, { width: 40, height: 30 });
    await Promise.all(Array.from({ length: 299 }, (_, index) => link(first, path.join(sandbox.mediaRoot, 'Zeta', `IMG_${String(index + 1).padStart(4, '0')}.jpg`))));
    for (const name of ['one', 'two', 'three']) await writeJpeg(path.join(sandbox.mediaRoot, 'Alpha', `${name}.jpg`), { width: 30, height: 40 });
    const scanning = openLibrary(sandbox);
    await scanning.library.scan();
    await scanning.library.close();
    // All added at once and none made yet: the pass's own order (newest, then by path, last first) starts in Zeta.
    sandbox.db.prepare('UPDATE media SET placeholder = NULL, added_at = 1').run();
    const opened = openLibrary(sandbox);
    try {
      await opened.library.watch();
      opened.library.lookingAt('Alpha');
      const due = (album: string) => sandbox.db.prepare('SELECT count(*) FROM media WHERE album_path = ? AND placeholder IS NULL').pluck().get(album) as number;
      await waitFor(() => due('Alpha') === 0, BOUND_MS, 'the album looked at');
      assert.ok(due('Zeta') > 100, `the album nobody opened waits: ${due('Zeta')} of 300 still to do`);
      await waitFor(() => due('Zeta') === 0, BOUND_MS * 3, 'the rest after it');
    } finally {
      await opened.library.close();
    }
  });

  it('takes a photo\'s placeholder from the derivative it is given, and from the original when there is none', async () => {
    for (const name of ['given.jpg', 'none.jpg', 'failing.jpg']) await writeJpeg(path.join(sandbox.mediaRoot, 'Derived', name), { width: 60, height: 30 });
    // The derivative handed over is tall where every original is wide (ThumbHash keeps the shape
    // roughly: 2:1 comes back about 1.8): the placeholder's shape tells which it came from.
    const tall = await jpegBytes({ width: 30, height: 60 });
    const asked: Array<{ name: string; size: number }> = [];
    const opened = openLibrary(sandbox, {
      placeholderSource: async (photo) => {
        if (photo.albumPath !== 'Derived') return undefined;
        asked.push({ name: photo.name, size: photo.size });
        if (photo.name === 'failing.jpg') throw new Error('the derivative could not be made');
        return photo.name === 'given.jpg' ? { bytes: tall, name: 'given.0123456789ab.webp' } : undefined;
      },
    });
    try {
      await opened.library.watch();
      await opened.library.scan();
      const made = (name: string) => typeof opened.library.item('Derived', name)?.placeholder === 'string';
      await waitFor(() => made('given.jpg') && made('none.jpg') && made('failing.jpg'), BOUND_MS, 'the pass');
      const shape = (name: string) => aspectOf(opened.library.item('Derived', name)!.placeholder!);
      assert.ok(shape('given.jpg') < 0.7, `from the derivative (tall): ${shape('given.jpg')}`);
      assert.ok(shape('none.jpg') > 1.5, `from the original (wide): ${shape('none.jpg')}`);
      assert.ok(shape('failing.jpg') > 1.5, `from the original after a failure (wide): ${shape('failing.jpg')}`);
      const size = opened.library.item('Derived', 'given.jpg')!.size;
      assert.deepEqual(asked.find((call) => call.name === 'given.jpg'), { name: 'given.jpg', size }, 'asked for the catalogued version');
      assert.deepEqual(opened.logged.about('Derived/failing.jpg'), [], 'a derivative that fails is not news: nothing logged at info or above');
    } finally {
      await opened.library.close();
    }
  });

  it('does not hold up a shutdown while the derivative it waits for is still queued', async () => {
    await writeJpeg(path.join(sandbox.mediaRoot, 'Queued', 'waiting.jpg'), { width: 40, height: 30 });
    let asked = false;
    const opened = openLibrary(sandbox, {
      placeholderSource: (photo) => {
        if (photo.albumPath !== 'Queued') return Promise.resolve(undefined);
        asked = true;
        return new Promise(() => {}); // a queue that never gets to it
      },
    });
    await opened.library.watch();
    await opened.library.scan();
    await waitFor(() => asked, BOUND_MS, 'the pass to ask for the derivative');
    const started = Date.now();
    await opened.library.close();
    assert.ok(Date.now() - started < 2000, `closed in ${Date.now() - started} ms`);
    assert.equal(placeholderRow('waiting.jpg'), null, 'nothing stored for it: the next start makes it');
  });

  it('fills placeholders a catalogue lacks once it is live, and none while it only answers reads', async () => {
    sandbox.db.prepare('UPDATE media SET placeholder = NULL').run();
    const reading = openLibrary(sandbox);
    await delay(300);
    assert.equal(placeholderRow('good.jpg'), null, 'a catalogue that is not watched (a CLI command) decodes nothing');
    await reading.library.close();
    const live = openLibrary(sandbox);
    try {
      await live.library.watch();
      await waitFor(() => typeof placeholderRow('good.jpg') === 'string', BOUND_MS, 'the backfill');
      assert.ok(live.library.listing('A')?.items.find((entry) => entry.name === 'good.jpg')?.placeholder);
    } finally {
      await live.library.close();
    }
  });
});
