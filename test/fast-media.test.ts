import assert from 'node:assert/strict';
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, rawGet } from './helpers/client.js';
import { tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * A derivative already in memory is answered in front of the Koa chain (src/http/fast-media.ts).
 * That path must be invisible: the same headers and bytes as the chain gives, and every refusal
 * the chain makes still made. Each photo below is asked for once first, so the ones after are
 * memory hits; a request with an old If-Modified-Since always goes through the chain, which makes
 * it the reference to compare with.
 */

const FAMILY = 'fast path family password';
const COUSINS = 'fast path cousins password';
const LONG_AGO = 'Thu, 01 Jan 1970 00:00:01 GMT';
const BURST = 30;

async function configFile(settings: Record<string, unknown>): Promise<string> {
  const file = path.join(await tempDir('keepsake-config-'), 'keepsake.config.json');
  await writeFile(file, JSON.stringify(settings));
  return file;
}

async function loggedIn(server: TestServer, password: string): Promise<Client> {
  const client = new Client(server.url);
  assert.equal((await client.login(password)).status, 303, 'logged in');
  return client;
}

async function thumbs(client: Client, album: string): Promise<string[]> {
  const response = await client.get(`/api/albums/${encodeURIComponent(album)}`);
  assert.equal(response.status, 200);
  const page = (await response.json()) as { items: { type: string; urls: Record<string, string> }[] };
  return page.items.filter((item) => item.type === 'image').map((item) => item.urls['thumb']!);
}

/** Asks once (a miss, made and read into memory) and returns the URL for the hits that follow. */
async function hot(client: Client, url: string): Promise<string> {
  const first = await client.get(url);
  assert.equal(first.status, 200, `${url} is served`);
  await first.arrayBuffer();
  return url;
}

function cookieHeader(client: Client): string {
  return [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

describe('the fast path for derivatives in memory', () => {
  let server: TestServer;
  let family: Client;
  let thumb: string;

  before(async () => {
    const config = await configFile({ guard: { rates: { perSession: { burst: BURST, perSecond: 1 }, tripwire: { enabled: false } } } });
    server = await startTestServer({
      keys: [
        { label: 'parents', password: FAMILY },
        { label: 'cousins', password: COUSINS, albums: ['Winter 2023'], canDownloadOriginals: false },
      ],
      env: { KEEPSAKE_CONFIG: config },
    });
    await server.ready;
    family = await loggedIn(server, FAMILY);
    thumb = await hot(family, (await thumbs(family, 'Summer 2024'))[0]!);
  });
  after(() => server?.close());

  it('answers with the very headers and bytes the Koa chain gives', async () => {
    const cookie = cookieHeader(family);
    const fast = await rawGet(new URL(thumb, server.url).href, { cookie });
    const chain = await rawGet(new URL(thumb, server.url).href, { cookie, 'if-modified-since': LONG_AGO });
    assert.equal(fast.status, 200);
    assert.equal(chain.status, 200);
    const comparable = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'date'));
    assert.deepEqual(comparable(fast.headers), comparable(chain.headers));
    assert.ok(fast.body.equals(chain.body), 'the same bytes');
    assert.match(String(fast.headers['content-type']), /^image\//);
    assert.equal(fast.headers['set-cookie'], undefined, 'a session in its first half is not renewed, on either path');
  });

  it('logs each answer once, as the chain does', async () => {
    const before = server.logLines.length;
    assert.equal((await family.get(thumb)).status, 200);
    const lines = server.logLines.slice(before).filter((line) => line['msg'] === 'request');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!['status'], 200);
    assert.doesNotMatch(String(lines[0]!['path']), new RegExp((await family.me()).token), 'the token is shortened in the log');
  });

  it("refuses another session's token, a forged signature and no cookie at all", async () => {
    const cousins = await loggedIn(server, COUSINS);
    assert.equal((await cousins.get(thumb)).status, 404, "another session's token");
    const forged = new Client(server.url);
    for (const [name, value] of family.cookies) forged.cookies.set(name, value);
    forged.cookies.set('keepsake.sid.sig', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA');
    assert.equal((await forged.get(thumb)).status, 404, 'a forged signature');
    assert.equal((await new Client(server.url).get(thumb)).status, 404, 'no cookie');
  });

  it('refuses an album the key was not granted, though its photo is in memory', async () => {
    const cousins = await loggedIn(server, COUSINS);
    const { token } = await cousins.me();
    const familyToken = (await family.me()).token;
    assert.equal((await cousins.get(thumb.replace(`/${familyToken}/`, `/${token}/`))).status, 404);
  });

  it('refuses what the guard refuses: a blocked user agent, a hotlink', async () => {
    assert.equal((await family.get(thumb, { 'user-agent': 'GPTBot/1.2' })).status, 403);
    assert.equal((await family.get(thumb, { 'sec-fetch-site': 'cross-site', referer: 'https://elsewhere.example/' })).status, 403);
  });

  it('counts each answer once against the media budget', async () => {
    const visitor = await loggedIn(server, FAMILY);
    const url = (await thumbs(visitor, 'Summer 2024'))[0]!;
    // The album listing costs nothing; each thumbnail asked for costs one, whichever path answers.
    const statuses: number[] = [];
    for (let n = 0; n < BURST + 3; n += 1) {
      const response = await visitor.get(url);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    const served = statuses.filter((status) => status === 200).length;
    // The steady rate (1/s) may add a request or two on a slow run; a double charge would halve it.
    assert.ok(served >= BURST && served <= BURST + 2, `served ${served} of ${statuses.length}: ${statuses.join(' ')}`);
    assert.equal(statuses.at(-1), 429);
  });

  it('refuses a photo in memory once its session ended, at logout or by a revocation elsewhere', async () => {
    const leaving = await loggedIn(server, FAMILY);
    const url = await hot(leaving, (await thumbs(leaving, 'Summer 2024'))[1]!);
    assert.equal((await leaving.request('/logout', { method: 'POST' })).status, 303);
    const stale = new Client(server.url);
    stale.cookies.set('keepsake.sid', leaving.cookies.get('keepsake.sid') ?? '');
    assert.equal((await stale.get(url)).status, 404, 'after logout');

    const revoked = await loggedIn(server, FAMILY);
    const other = await hot(revoked, (await thumbs(revoked, 'Summer 2024'))[1]!);
    assert.equal((await revoked.get(other)).status, 200);
    const { token } = await revoked.me();
    const session = (await server.services.access.liveSessions()).find((entry) => entry.token === token)!;
    // As `keepsake sessions revoke` does from another process: the row, then the link.
    await server.services.access.revokeSessions(session.token);
    assert.equal((await revoked.get(other)).status, 404, 'after a revocation');
  });
});

describe('the fast path and renewal', () => {
  const TTL_MS = 3_000;
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ keys: [{ label: 'renewing', password: FAMILY }], env: { KEEPSAKE_SESSION_TTL: `${TTL_MS / 1000}s`, KEEPSAKE_SWEEP_INTERVAL: '0 0 1 1 *' } });
    await server.ready;
  });
  after(() => server?.close());

  it('renews a session in its second half on a photo from memory, cookies and all', async () => {
    const family = await loggedIn(server, FAMILY);
    const url = await hot(family, (await thumbs(family, 'Summer 2024'))[0]!);
    const { expiresAt } = await family.me();
    await sleep(Math.max(0, Date.parse(expiresAt) - TTL_MS / 2 + 300 - Date.now()));
    const renewed = await family.get(url);
    assert.equal(renewed.status, 200);
    const cookies = renewed.headers.getSetCookie().map((cookie) => cookie.split('=')[0]);
    assert.ok(cookies.includes('keepsake.sid'), `the session cookie is written again: ${cookies.join(', ')}`);
    assert.ok(cookies.includes('keepsake_link'), 'and the link cookie with it');
    assert.ok(Date.parse((await family.me()).expiresAt) > Date.parse(expiresAt), 'the session lasts longer');
  });
});

describe('the fast path with X-Accel', () => {
  let server: TestServer;
  let family: Client;
  let thumb: string;

  before(async () => {
    server = await startTestServer({ keys: [{ label: 'parents', password: FAMILY }, { label: 'cousins', password: COUSINS, albums: ['Winter 2023'] }], env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1', KEEPSAKE_ACCEL: 'nginx' } });
    await server.ready;
    family = await loggedIn(server, FAMILY);
    thumb = await hot(family, (await thumbs(family, 'Summer 2024'))[0]!);
  });
  after(() => server?.close());

  it('hands nginx the same path with the same headers as the chain does', async () => {
    const cookie = cookieHeader(family);
    const fast = await rawGet(new URL(thumb, server.url).href, { cookie });
    const chain = await rawGet(new URL(thumb, server.url).href, { cookie, 'if-modified-since': LONG_AGO });
    assert.equal(fast.status, 200);
    assert.match(String(fast.headers['x-accel-redirect']), /^\/_keepsake\/cache\/thumb\/Summer%202024\/[^/]+\.webp$/);
    const comparable = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'date'));
    assert.deepEqual(comparable(fast.headers), comparable(chain.headers));
    assert.equal(fast.body.length, 0, 'nginx sends the bytes');
  });

  it('answers from the path it verified, without touching the disk, and the chain verifies afresh', async () => {
    const cookie = cookieHeader(family);
    const second = await hot(family, (await thumbs(family, 'Summer 2024'))[1]!);
    const first = await rawGet(new URL(second, server.url).href, { cookie });
    const cacheFile = path.join(server.stateDir, 'cache', ...decodeURIComponent(String(first.headers['x-accel-redirect']).replace('/_keepsake/cache/', '')).split('/'));
    await rm(cacheFile);
    const fast = await rawGet(new URL(second, server.url).href, { cookie });
    assert.equal(fast.headers['x-accel-redirect'], first.headers['x-accel-redirect']);
    await assert.rejects(stat(cacheFile), { code: 'ENOENT' }, 'the fast path opened nothing');
    const chain = await rawGet(new URL(second, server.url).href, { cookie, 'if-modified-since': LONG_AGO });
    assert.equal(chain.status, 200);
    assert.ok((await stat(cacheFile)).isFile(), 'the chain made the derivative again');
  });

  it("refuses another session's token and an album not granted", async () => {
    const cousins = await loggedIn(server, COUSINS);
    assert.equal((await cousins.get(thumb)).status, 404, "another session's token");
    const { token } = await cousins.me();
    assert.equal((await cousins.get(thumb.replace(`/${(await family.me()).token}/`, `/${token}/`))).status, 404, 'an album not granted');
  });
});
