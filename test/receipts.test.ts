import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { albumItems } from './helpers/albums.js';
import { Client } from './helpers/client.js';
import { runKeepsake } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * Exposure receipts: a scripted family member fetches known photos (some twice, one as an
 * original, from two addresses through a trusted proxy), a share link's visitor fetches others;
 * what `keepsake sessions show`, `sessions revoke` and `share list` print must match exactly.
 */

const FAMILY = 'receipts family password';

/** Waits past the recorder's one-second flush. */
const flushed = () => delay(1300);

describe('exposure receipts', () => {
  let server: TestServer;
  let family: Client;

  before(async () => {
    server = await startTestServer({ keys: [{ label: 'grandparents', password: FAMILY }], env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1' } });
    family = new Client(server.url);
    assert.equal((await family.login(FAMILY)).status, 303);
  });
  after(() => server?.close());

  it('counts the photos of each album a session fetched, its originals and its addresses', async () => {
    const summer = await albumItems(family, 'Summer 2024');
    const [beach, sunset] = [summer.find((item) => item.name === 'beach.jpg')!, summer.find((item) => item.name === 'sunset glow.jpg')!];
    const from = (address: string) => ({ 'x-forwarded-for': address });
    // beach: thumb twice (the second from memory) and its original; sunset: small. Two photos, one original.
    for (const url of [beach.urls['thumb']!, beach.urls['thumb']!, beach.urls['original']!, sunset.urls['small']!]) {
      assert.equal((await family.get(url, from('198.51.100.7'))).status, 200, url);
    }
    const [alice] = await albumItems(family, 'Kids/Alice');
    assert.equal((await family.get(alice!.urls['medium']!, from('203.0.113.9'))).status, 200);
    // Refused requests are no exposure.
    assert.equal((await family.get(beach.urls['thumb']!.replace(/[^/]+$/, 'nope.jpg.0123456789ab.webp'))).status, 404);
    await flushed();

    const { token } = await family.me();
    const shown = await runKeepsake(['sessions', 'show', token], server.env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /grandparents \(token \w{3}…, live\): saw 2 photos of Summer 2024, 1 photo of Kids\/Alice and downloaded 1 original, from 2 addresses, last at \d{4}-\d\d-\d\d \d\d:\d\d\./);
    assert.match(shown.stdout, /5 media requests/);
    assert.match(shown.stdout, /Summer 2024: 2 photos, 1 original/);
    assert.match(shown.stdout, /from 198\.51\.100\.7, /);
    assert.match(shown.stdout, /from 203\.0\.113\.9, /);
    assert.equal(shown.stdout.includes(token), false, 'the token is shortened');
    const byLabel = await runKeepsake(['sessions', 'show', 'grandparents'], server.env);
    assert.equal(byLabel.stdout, shown.stdout, 'a label finds the same receipt');
  });

  it('says what a session saw as it is revoked, and keeps the receipt after it ended', async () => {
    const { token } = await family.me();
    const revoked = await runKeepsake(['sessions', 'revoke', token], server.env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /Ended 1 session/);
    assert.match(revoked.stdout, /grandparents \(token \w{3}…\) saw 2 photos of Summer 2024, 1 photo of Kids\/Alice and downloaded 1 original, from 2 addresses/);
    assert.equal((await family.get('/api/me')).status, 401, 'the session is gone');
    const after = await runKeepsake(['sessions', 'show', token], server.env);
    assert.match(after.stdout, /grandparents \(token \w{3}…, ended\)/);
    const unknown = await runKeepsake(['sessions', 'show', 'nobody-by-this-name'], server.env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stdout, /No receipt for "nobody-by-this-name"/);
  });

  it('totals what every share link\'s sessions saw in `share list`', async () => {
    const made = await runKeepsake(['share', 'Kids/Alice', '--ttl', '1h', '--no-originals'], server.env);
    const link = new URL(/^http:\/\/\S+\/s\/\S+$/m.exec(made.stdout)![0]).pathname;
    const id = /Id: (\S+)$/m.exec(made.stdout)![1]!;
    const visitor = new Client(server.url);
    assert.equal((await visitor.request(link, { method: 'POST' })).status, 303);
    const [photo] = await albumItems(visitor, 'Kids/Alice');
    for (const variant of ['thumb', 'small', 'large']) assert.equal((await visitor.get(photo!.urls[variant]!)).status, 200);
    await flushed();
    const listed = await runKeepsake(['share', 'list'], server.env);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(id));
    assert.ok(row, listed.stdout);
    assert.match(row, /Kids\/Alice .* open\s+1\s+0\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d$/, row);
  });
});
