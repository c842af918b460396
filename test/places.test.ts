import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { placeFor } from '../src/auth/index.js';
import { positionFromIso6709 } from '../src/ffmpeg.js';
import { Client } from './helpers/client.js';
import { runKeepsake } from './helpers/cli.js';
import { makeJpeg, tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { makeVideo, VIDEO_TOOLS_MISSING } from './helpers/videos.js';

/*
 * The location policy of a key: `none` is told nothing (not even that places exist), `city` only
 * the position rounded to a tenth of a degree, `exact` (household keys only) the position. What
 * the API sends is checked as text: no more digits of a position than the key may have.
 */

// 48°51'30" N, 2°17'40.2" E: 48.858333…, 2.294500
const EXACT = { latitude: 48 + 51 / 60 + 30 / 3600, longitude: 2 + 17 / 60 + 40.2 / 3600 };
const PASSWORDS = { household: 'the household sees exact places', friends: 'friends see the town only', viewer: 'a viewer sees no places' } as const;

describe('location policy (pure)', () => {
  it('rounds a city place to a tenth of a degree, and tells a none key nothing', () => {
    assert.deepEqual(placeFor('city', EXACT), { latitude: 48.9, longitude: 2.3, precision: 'city' });
    assert.deepEqual(placeFor('city', { latitude: -33.8688, longitude: 151.2093 }), { latitude: -33.9, longitude: 151.2, precision: 'city' });
    assert.deepEqual(placeFor('exact', EXACT), { ...EXACT, precision: 'exact' });
    assert.equal(placeFor('none', EXACT), undefined);
    assert.equal(placeFor('exact', undefined), undefined);
  });

  it('reads a phone video\'s ISO 6709 location', () => {
    assert.deepEqual(positionFromIso6709('+48.8584+002.2945+035.000/'), { latitude: 48.8584, longitude: 2.2945 });
    assert.deepEqual(positionFromIso6709('-33.8688+151.2093/'), { latitude: -33.8688, longitude: 151.2093 });
    assert.equal(positionFromIso6709('+95.0+002.0/'), undefined);
    assert.equal(positionFromIso6709('somewhere'), undefined);
  });
});

describe('location policy over HTTP', () => {
  let server: TestServer;
  const clients: Partial<Record<keyof typeof PASSWORDS, Client>> = {};

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await mkdir(path.join(mediaRoot, 'Paris'), { recursive: true });
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
      .jpeg()
      .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 402/10' } })
      .toFile(path.join(mediaRoot, 'Paris', 'tower.jpg'));
    await makeJpeg(path.join(mediaRoot, 'Paris', 'no-gps.jpg'));
    if (VIDEO_TOOLS_MISSING === undefined) await makeVideo(path.join(mediaRoot, 'Paris', 'clip.mp4'), { location: '+48.8584+002.2945/' });
    server = await startTestServer({ mediaRoot });
    const { access } = server.services;
    await access.addKey({ label: 'household', password: PASSWORDS.household, albums: ['*'], canDownloadOriginals: true, location: 'exact', household: true });
    await access.addKey({ label: 'friends', password: PASSWORDS.friends, albums: ['*'], canDownloadOriginals: false, location: 'city' });
    await access.addKey({ label: 'viewer', password: PASSWORDS.viewer, albums: ['*'], canDownloadOriginals: false });
    for (const [who, password] of Object.entries(PASSWORDS) as Array<[keyof typeof PASSWORDS, string]>) {
      const client = new Client(server.url);
      assert.equal((await client.login(password)).status, 303, who);
      clients[who] = client;
    }
  });
  after(() => server?.close());

  async function listing(who: keyof typeof PASSWORDS): Promise<{ text: string; items: Array<{ name: string; place?: { latitude: number; longitude: number; precision: string } }> }> {
    const text = await (await clients[who]!.get('/api/albums/Paris')).text();
    return { text, items: (JSON.parse(text) as { items: Array<{ name: string; place?: { latitude: number; longitude: number; precision: string } }> }).items };
  }

  it('tells a key with no location policy nothing, not even that places exist', async () => {
    const { text, items } = await listing('viewer');
    assert.equal(items.length >= 2, true);
    assert.ok(items.every((item) => !('place' in item)), text);
    assert.doesNotMatch(text, /"place"|latitude|48\.8|2\.29/);
    const places = await clients.viewer!.get('/api/places');
    assert.equal(places.status, 404);
  });

  it('tells a city key the place rounded to a tenth of a degree, and nothing finer', async () => {
    const { text, items } = await listing('friends');
    assert.deepEqual(items.find((item) => item.name === 'tower.jpg')?.place, { latitude: 48.9, longitude: 2.3, precision: 'city' });
    assert.equal(items.find((item) => item.name === 'no-gps.jpg')?.place, undefined);
    if (VIDEO_TOOLS_MISSING === undefined) assert.deepEqual(items.find((item) => item.name === 'clip.mp4')?.place, { latitude: 48.9, longitude: 2.3, precision: 'city' });
    assert.doesNotMatch(text, /48\.8|2\.29/, 'no digit finer than the grid');
    const places = (await (await clients.friends!.get('/api/places')).json()) as { places: Array<Record<string, unknown>> };
    assert.equal(places.places.length, 1);
    assert.deepEqual([places.places[0]!['latitude'], places.places[0]!['longitude'], places.places[0]!['precision'], places.places[0]!['albums']], [48.9, 2.3, 'city', ['Paris']]);
    assert.equal(places.places[0]!['photoCount'], VIDEO_TOOLS_MISSING === undefined ? 2 : 1);
  });

  it('shows places on their page and in the viewer\'s captions, only to keys that may see them', async () => {
    const page = await clients.friends!.get('/places');
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<h2>near 48\.9° N, 2\.3° E<\/h2>/);
    assert.match(text, /<a href="\/albums\/Paris">Paris<\/a>/);
    assert.match(await (await clients.friends!.get('/albums/Paris')).text(), /data-caption="tower · [^"]+ · near 48\.9° N, 2\.3° E"/);
    assert.match(await (await clients.friends!.get('/')).text(), /href="\/places">Places</);
    assert.equal((await clients.viewer!.get('/places')).status, 404);
    const viewerPage = await (await clients.viewer!.get('/albums/Paris')).text();
    assert.doesNotMatch(viewerPage, /°|href="\/places"/);
  });

  it('tells a household key the exact place', async () => {
    const { items } = await listing('household');
    const place = items.find((item) => item.name === 'tower.jpg')?.place;
    assert.equal(place?.precision, 'exact');
    assert.ok(Math.abs(place.latitude - EXACT.latitude) < 1e-6 && Math.abs(place.longitude - EXACT.longitude) < 1e-6, JSON.stringify(place));
  });

  it('gives a share link no places, and refuses exact places for a key that is not household', async () => {
    const made = await runKeepsake(['share', 'Paris', '--ttl', '1h'], server.env);
    const link = new URL(/^http:\/\/\S+\/s\/\S+$/m.exec(made.stdout)![0]).pathname;
    const visitor = new Client(server.url);
    assert.equal((await visitor.request(link, { method: 'POST' })).status, 303);
    assert.doesNotMatch(await (await visitor.get('/api/albums/Paris')).text(), /"place"|latitude/);
    assert.equal((await visitor.get('/api/places')).status, 404);
    const refused = await runKeepsake(['key', 'add', 'cousins', '--location', 'exact'], server.env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /only a household key may see exact places; mark it with --household, or use --location city/);
    const bad = await runKeepsake(['key', 'add', 'cousins', '--location', 'street'], server.env);
    assert.match(bad.stderr, /--location "street": expected none, city or exact/);
    const added = await runKeepsake(['key', 'add', 'cousins', '--location', 'city'], server.env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /places city/);
    assert.match((await runKeepsake(['key', 'list'], server.env)).stdout, /cousins\s+\*\s+yes\s+city/);
  });
});
