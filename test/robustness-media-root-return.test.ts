import assert from 'node:assert/strict';
import { cp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from './helpers/client.js';
import { makeJpeg, makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { eventually } from './helpers/robustness-process.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * The media root goes away and comes back while keepsake runs: a NAS share dropped and mounted
 * again, a disk unplugged, the admin moving the folder aside for a minute, a restore from backup
 * that makes the folder anew. Nothing may be lost while it is away, and once it is back, albums
 * dropped into it must appear as they did before, without a restart.
 */

const PASSWORD = 'the photos come back';
/** The root is looked for every few seconds; the new album then appears after a scan. */
const BACK_WITHIN_MS = 20_000;

async function albumPaths(client: Client): Promise<string[]> {
  const answer = await client.get('/api/albums');
  assert.equal(answer.status, 200);
  return ((await answer.json()) as { albums: { path: string }[] }).albums.map((album) => album.path).sort();
}

describe('a media root that goes away and comes back', () => {
  let server: TestServer;
  let family: Client;
  let before_: string[];
  const photoCount = async (album: string) => {
    const answer = await family.get(`/api/albums/${encodeURIComponent(album)}`);
    return answer.status === 200 ? ((await answer.json()) as { items: unknown[] }).items.length : 0;
  };

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    server = await startTestServer({ mediaRoot, keys: [{ label: 'home', password: PASSWORD }] });
    await server.ready;
    family = new Client(server.url);
    assert.equal((await family.login(PASSWORD)).status, 303);
    before_ = await albumPaths(family);
    assert.deepEqual(before_, ['Kids', 'Summer 2024']);
  });
  after(() => server?.close());

  it('moved aside and back: nothing is lost meanwhile, and an album dropped afterwards appears', async () => {
    const aside = `${server.mediaRoot}.aside`;
    await rename(server.mediaRoot, aside);
    await sleep(1_500);
    assert.deepEqual(await albumPaths(family), before_, 'nothing removed while the root is away');
    await rename(aside, server.mediaRoot);
    await sleep(500);
    await makeJpeg(path.join(server.mediaRoot, 'After the move', 'first.jpg'), { colour: '#2080f0' });
    const seen = await eventually(async () => (await photoCount('After the move')) === 1, BACK_WITHIN_MS, 250);
    assert.ok(seen, `the album dropped after the root came back is listed with its photo: ${(await albumPaths(family)).join(', ')}`);
    assert.deepEqual(await albumPaths(family), [...before_, 'After the move'].sort());
    const album = (await (await family.get('/api/albums/After%20the%20move')).json()) as { items: { urls: { thumb: string } }[] };
    const thumb = await family.get(album.items[0]!.urls.thumb);
    assert.deepEqual([thumb.status, thumb.headers.get('content-type')], [200, 'image/webp']);
  });

  it('made anew (a restore from backup): what it holds is listed, a later drop too', async () => {
    const backup = await tempDir('keepsake-backup-');
    await cp(server.mediaRoot, backup, { recursive: true, verbatimSymlinks: true });
    await makeJpeg(path.join(backup, 'From the backup', 'old.jpg'), { colour: '#a0f020' });
    await rm(server.mediaRoot, { recursive: true });
    await sleep(1_500);
    assert.ok((await albumPaths(family)).includes('Summer 2024'), 'nothing removed while the root is gone');
    // The restored folder is a new folder (a new inode) at the same path.
    await rename(backup, server.mediaRoot);
    const restored = await eventually(async () => (await photoCount('From the backup')) === 1, BACK_WITHIN_MS, 250);
    assert.ok(restored, `the restored folder's new album is listed: ${(await albumPaths(family)).join(', ')}`);
    await makeJpeg(path.join(server.mediaRoot, 'After the restore', 'new.jpg'), { colour: '#f02080' });
    const dropped = await eventually(async () => (await photoCount('After the restore')) === 1, BACK_WITHIN_MS, 250);
    assert.ok(dropped, 'an album dropped into the restored folder is listed: the watcher watches the new folder');
    assert.deepEqual(await albumPaths(family), ['After the move', 'After the restore', 'From the backup', 'Kids', 'Summer 2024']);
    const log = server.logLines.filter((line) => typeof line['msg'] === 'string' && /media root/.test(line['msg'] as string)).map((line) => line['msg']);
    assert.ok(log.some((msg) => /is back/.test(String(msg))), `the log says the root is back: ${JSON.stringify(log)}`);
  });
});
