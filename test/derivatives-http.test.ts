import assert from 'node:assert/strict';
import { cp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { albumItems, type ApiItem } from './helpers/albums.js';
import { Client } from './helpers/client.js';
import { makeJpeg, tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FAMILY = 'family password here';
const VIEWER = 'viewer password here';



async function countFiles(directory: string): Promise<number> {
  try {
    return (await readdir(directory, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).length;
  } catch {
    return 0;
  }
}

describe('derivatives over HTTP', () => {
  let server: TestServer;
  let family: Client;
  let viewer: Client;

  before(async () => {
    server = await startTestServer({
      keys: [
        { label: 'relatives', password: FAMILY },
        { label: 'viewer', password: VIEWER, albums: ['Summer 2024'], canDownloadOriginals: false },
      ],
    });
    family = new Client(server.url);
    viewer = new Client(server.url);
    await family.login(FAMILY);
    await viewer.login(VIEWER);
  });
  after(() => server.close());

  it('lists every variant the key may see, under the visitor\'s own token, with width and height', async () => {
    const { token } = await family.me();
    const items = await albumItems(family, 'Summer 2024');
    assert.deepEqual(items.map((item) => item.name).sort(), ['beach.jpg', 'sunset glow.jpg']);
    for (const item of items) {
      assert.deepEqual(Object.keys(item.urls).sort(), ['large', 'medium', 'original', 'small', 'thumb']);
      for (const url of Object.values(item.urls)) assert.ok(url.startsWith(`/${token}/`), url);
      assert.equal(item.width, 64);
      assert.equal(item.height, 48);
    }
    const viewerItems = await albumItems(viewer, 'Summer 2024');
    assert.deepEqual(Object.keys(viewerItems[0]!.urls).sort(), ['large', 'medium', 'small', 'thumb'], 'no original without the right');
  });

  it('serves each derivative as the format its URL names, immutable and private, and made once', async () => {
    const [item] = await albumItems(viewer, 'Summer 2024');
    for (const variant of ['thumb', 'small', 'medium', 'large']) {
      const url = item!.urls[variant]!;
      assert.match(url, /\.webp$/);
      const response = await viewer.get(url);
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get('content-type'), 'image/webp');
      assert.match(response.headers.get('cache-control') ?? '', /^private, max-age=\d+, immutable$/);
      const metadata = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      assert.equal(metadata.format, 'webp');
      assert.equal(metadata.exif, undefined);
      if (variant === 'thumb') assert.equal(metadata.width, metadata.height, 'thumb is square');
      else assert.equal(metadata.width, 64, 'never enlarged');
    }
  });

  it('refuses stale names, other albums and other tokens with the uniform 404', async () => {
    const [item] = await albumItems(viewer, 'Summer 2024');
    const thumb = item!.urls['thumb']!;
    const stale = thumb.replace(/\.([0-9a-f]+)\.webp$/, '.000000000000.webp');
    assert.equal((await viewer.get(stale)).status, 404);
    assert.equal((await family.get(thumb)).status, 404, "another session's token");
    const { token } = await viewer.me();
    const kids = (await albumItems(family, 'Kids/Alice'))[0]!.urls['thumb']!.replace(/^\/[A-Za-z]+\//, `/${token}/`);
    assert.equal((await viewer.get(kids)).status, 404, 'album not granted to this key');
  });

  it('a dropped folder of photos appears by itself, and leaves with its derivatives when deleted', async () => {
    const drop = await tempDir('keepsake-drop-');
    for (let index = 0; index < 40; index += 1) await makeJpeg(path.join(drop, `photo-${String(index).padStart(3, '0')}.jpg`), { width: 40 + index, height: 30 });
    await cp(drop, path.join(server.mediaRoot, 'Dropped'), { recursive: true });
    const deadline = Date.now() + 20_000;
    let items: ApiItem[] = [];
    while (Date.now() < deadline && items.length < 40) {
      await sleep(200);
      items = await albumItems(family, 'Dropped');
    }
    assert.equal(items.length, 40, 'all photos catalogued');
    const albums = (await (await family.get('/api/albums')).json()) as { albums: { path: string }[] };
    assert.ok(albums.albums.some((album) => album.path === 'Dropped'), 'a * key sees the new album without logging in again');
    assert.equal((await family.get(items[0]!.urls['medium']!)).status, 200, 'served through the existing link');
    const cache = path.join(server.stateDir, 'cache');
    assert.ok((await countFiles(path.join(cache, 'medium', 'Dropped'))) > 0);

    await rm(path.join(server.mediaRoot, 'Dropped'), { recursive: true });
    const gone = Date.now() + 20_000;
    while (Date.now() < gone && (await family.get('/api/albums/Dropped')).status !== 404) await sleep(200);
    assert.equal((await family.get('/api/albums/Dropped')).status, 404);
    assert.equal((await family.get(items[0]!.urls['medium']!)).status, 404);
    const cleared = Date.now() + 10_000;
    const left = async () => {
      let count = 0;
      for (const variant of ['thumb', 'small', 'medium', 'large']) count += await countFiles(path.join(cache, variant, 'Dropped'));
      return count;
    };
    // Pre-generation still running when the folder went finishes first; its files go right after.
    while (Date.now() < cleared && (await left()) > 0) await sleep(200);
    for (const variant of ['thumb', 'small', 'medium', 'large']) {
      assert.equal(await countFiles(path.join(cache, variant, 'Dropped')), 0, `${variant} derivatives removed`);
    }
  });
});
