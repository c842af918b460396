import assert from 'node:assert/strict';
import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { albumItems } from './helpers/albums.js';
import { Client } from './helpers/client.js';
import { runKeepsake } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * Named devices: an enrolment card made on the command line opens the gallery on one device,
 * once, and only by a press of its button (a POST); the admin lists devices with what they last
 * did and ends one at once. A visitor who logged in with a password may name their device too.
 */

const FAMILY = 'devices family password';
const DEVICE = "Grandma's iPad";

describe('named devices', () => {
  let server: TestServer;
  let card: string;
  let grandma: Client;

  before(async () => {
    server = await startTestServer({ keys: [{ label: 'household', password: FAMILY }] });
  });
  after(() => server?.close());

  it('prints a one-time enrolment link, as a QR code in the terminal and a PNG to print', async () => {
    const png = path.join(await tempDir('keepsake-card-'), 'card.png');
    const made = await runKeepsake(['device', 'add', DEVICE, '--albums', 'Summer 2024', '--no-originals', '--png', png], server.env);
    assert.equal(made.code, 0, made.stderr);
    const link = /^http:\/\/\S+\/enrol\/[A-Za-z0-9_-]{43}$/m.exec(made.stdout)?.[0];
    assert.ok(link, made.stdout);
    card = new URL(link).pathname;
    assert.match(made.stdout, /[▀▄█]{10}/, 'a QR code drawn in the terminal');
    assert.deepEqual([...(await readFile(png)).subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG file');
    assert.equal((await stat(png)).mode & 0o777, 0o600, 'the card opens the gallery once: readable by its writer only');
    assert.match(made.stdout, /works once, until \d{4}-\d\d-\d\d \d\d:\d\d/);
  });

  it('shows the card\'s page without using it, and refuses a press from another site', async () => {
    const preview = new Client(server.url);
    for (let look = 0; look < 2; look += 1) {
      const page = await preview.get(card);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
      const body = await page.text();
      // A <meta name="referrer"> overrides the header for the page's own requests: it must say the same.
      assert.deepEqual([...body.matchAll(/<meta name="referrer" content="([^"]*)">/g)].map((match) => match[1]), ['no-referrer']);
      assert.match(body, /<form method="post" action="\/enrol\/[^"]+"><button type="submit">Open the gallery on this device<\/button>/);
    }
    assert.equal(preview.cookies.size, 0, 'looking opens nothing');
    const forged = await preview.request(card, { method: 'POST', headers: { origin: 'https://evil.example' } });
    assert.equal(forged.status, 403);
    assert.equal(preview.cookies.size, 0);
  });

  it('opens a long-lived session on the device with one press, and never a second time', async () => {
    grandma = new Client(server.url);
    const opened = await grandma.request(card, { method: 'POST' });
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.get('location'), '/');
    const me = await grandma.me();
    assert.equal(me.label, DEVICE);
    assert.equal(me.canDownloadOriginals, false);
    assert.ok(Date.parse(me.expiresAt) - Date.now() > 300 * 24 * 3600_000, `long-lived: ${me.expiresAt}`);
    const albums = ((await (await grandma.get('/api/albums')).json()) as { albums: { path: string }[] }).albums.map((album) => album.path);
    assert.deepEqual(albums, ['Summer 2024']);
    const [photo] = await albumItems(grandma, 'Summer 2024');
    assert.equal((await grandma.get(photo!.urls['thumb']!)).status, 200);
    const again = await new Client(server.url).request(card, { method: 'POST' });
    assert.equal(again.status, 410);
    assert.match(await again.text(), /This card has been used/);
    assert.equal((await new Client(server.url).get('/enrol/not-a-card')).status, 404);
    const logged = server.logLines.filter((line) => typeof line['path'] === 'string' && (line['path'] as string).startsWith('/enrol/'));
    assert.ok(logged.length > 0 && logged.every((line) => /^\/enrol\/[A-Za-z0-9_-]{0,3}…$/.test(line['path'] as string)), `the card is never logged whole: ${JSON.stringify(logged.map((line) => line['path']))}`);
  });

  it('lets a visitor name the device they logged in with', async () => {
    const kitchen = new Client(server.url);
    await kitchen.login(FAMILY);
    const bad = await kitchen.request('/device', { method: 'POST', form: { name: '<script>' } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Use up to 64 letters/);
    const named = await kitchen.request('/device', { method: 'POST', form: { name: 'Kitchen tablet' } });
    assert.equal(named.status, 200);
    assert.match(await named.text(), /This device is now “Kitchen tablet”/);
    assert.match(await (await kitchen.get('/device')).text(), /value="Kitchen tablet"/);
    const [beach] = await albumItems(kitchen, 'Summer 2024');
    assert.equal((await kitchen.get(beach!.urls['small']!)).status, 200);
    await delay(1300); // receipts are written once a second
    const shown = await runKeepsake(['sessions', 'show', 'Kitchen tablet'], server.env);
    assert.match(shown.stdout, /household \(token \w{3}…, live\): saw 1 photo of Summer 2024/, 'a named device is found by its name');
    const listed = await runKeepsake(['device', 'list'], server.env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^DEVICE\s+HOW\s+ALBUMS\s+ORIGINALS\s+LAST SEEN\s+ONLINE$/m);
    assert.match(listed.stdout, new RegExp(`^${DEVICE}\\s+card\\s+Summer 2024\\s+no\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+yes$`, 'm'));
    assert.match(listed.stdout, /^Kitchen tablet\s+named by visitor\s+\*\s+yes\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+yes$/m);
  });

  it('ends a device at once, saying what it had fetched', async () => {
    const { token } = await grandma.me();
    const [photo] = await albumItems(grandma, 'Summer 2024');
    const removed = await runKeepsake(['device', 'remove', DEVICE], server.env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Removed device "Grandma's iPad": ended 1 session/);
    assert.match(removed.stdout, /It saw 1 photo of Summer 2024 and downloaded 0 originals, from 1 address/);
    assert.equal((await grandma.get('/api/me')).status, 401);
    assert.equal((await grandma.get(photo!.urls['thumb']!)).status, 404);
    await assert.rejects(lstat(path.join(server.webRoot, token)), { code: 'ENOENT' });
    const named = await runKeepsake(['device', 'remove', 'Kitchen tablet'], server.env);
    assert.match(named.stdout, /ended 1 session/);
    const unknown = await runKeepsake(['device', 'remove', 'Kitchen tablet'], server.env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no device named "Kitchen tablet"; see: keepsake device list/);
  });
});
