import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { noisyJpeg } from './fixtures/derivatives-images.js';
import { Client } from './helpers/client.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * A session is renewed when a request arrives in the second half of its life. Renewing only when
 * the answer was done left a window: a request that arrived a moment before the end, and took a
 * moment (a derivative being made), found its session swept by the time it was answered, and its
 * visitor, busy all along, logged out on the next click. This provokes exactly that.
 */

const PASSWORD = 'renewal family password';
const TTL_MS = 4_000;

describe('a session renewed by a request that arrives just before its end', () => {
  let server: TestServer;
  let family: Client;

  before(async () => {
    server = await startTestServer({ keys: [{ label: 'renewal', password: PASSWORD }], env: { KEEPSAKE_SESSION_TTL: `${TTL_MS / 1000}s`, KEEPSAKE_SWEEP_INTERVAL: '0 0 1 1 *' } });
    // A big photo, so making its `large` derivative takes a while.
    await writeFile(path.join(server.mediaRoot, 'Summer 2024', 'big.jpg'), await noisyJpeg(4000, 3000, 11));
    await server.services.library.scan();
    family = new Client(server.url);
  });
  after(() => server.close());

  it('outlives a sweep that runs while the request is being answered', async () => {
    assert.equal((await family.login(PASSWORD)).status, 303);
    const { token, expiresAt } = await family.me();
    const album = (await (await family.get('/api/albums/Summer%202024')).json()) as { items: { name: string; urls: Record<string, string> }[] };
    const large = album.items.find((item) => item.name === 'big.jpg')!.urls['large']!;
    // About 100 ms left when the request arrives; the sweep comes after that, while sharp is still at work.
    await sleep(Math.max(0, Date.parse(expiresAt) - 100 - Date.now()));
    const answer = family.get(large);
    await sleep(250);
    const swept = await server.services.access.sweep();
    const response = await answer;
    assert.equal(response.status, 200, 'the photo is answered');
    assert.equal(swept.expired, 0, 'the sweep did not end the session a request had just renewed');
    const renewed = response.headers.getSetCookie().find((line) => line.startsWith('keepsake_link='));
    const until = Date.parse(/expires=([^;]+)/i.exec(renewed ?? '')?.[1] ?? '');
    assert.ok(until > Date.now() + TTL_MS / 2, `the link cookie was renewed with the session: ${renewed}`);
    assert.equal((await family.get('/api/me')).status, 200, 'the visitor is still logged in');
    const stored = await server.services.store.sessions.byToken(token);
    assert.ok(stored !== undefined && stored.expiresAt > Date.now() + TTL_MS / 2, 'the store holds the renewed expiry');
  });
});
