import assert from 'node:assert/strict';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import { isWithin } from '../src/paths.js';
import { Client } from './helpers/client.js';
import { TEST_POSTGRES_ENV } from './helpers/postgres.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery';

async function tokenLinks(server: TestServer): Promise<string[]> {
  return (await readdir(server.webRoot)).filter((name) => name !== 'robots.txt');
}

describe('login, session and logout', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ keys: [{ label: 'grandparents', password: PASSWORD }] });
  });
  after(() => server.close());

  it('made a first key "family" and reports its password once', async () => {
    assert.match(server.firstPassword ?? '', /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    assert.deepEqual((await server.services.access.listKeys()).map(({ key }) => key.label).sort(), ['family', 'grandparents']);
  });

  it('a login adds exactly one symlink, named by a random 11–17 letter token, pointing outside the web root', async () => {
    const before = await tokenLinks(server);
    const client = new Client(server.url);
    const response = await client.login(PASSWORD);
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/');
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('keepsake.sid='));
    assert.ok(cookie, 'session cookie set');
    assert.match(cookie, /httponly/i);
    assert.match(cookie, /samesite=lax/i);
    assert.doesNotMatch(cookie, /secure/i, 'not secure over plain HTTP');
    assert.ok(client.cookies.has('keepsake.sid.sig'), 'the cookie is signed');

    const after = await tokenLinks(server);
    const added = after.filter((name) => !before.includes(name));
    assert.equal(added.length, 1);
    const [token] = added as [string];
    assert.match(token, /^[A-Za-z]{11,17}$/);
    const link = path.join(server.webRoot, token);
    assert.ok((await lstat(link)).isSymbolicLink());
    const target = await realpath(link);
    assert.equal(isWithin(await realpath(server.webRoot), target), false, `${await readlink(link)} resolves inside the web root`);
    assert.equal((await client.me()).token, token);
  });

  it('token lengths vary across logins', async () => {
    const lengths = new Set<number>();
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const client = new Client(server.url);
      await client.login(PASSWORD);
      lengths.add((await client.me()).token.length);
    }
    assert.ok(lengths.size >= 3, `only lengths ${[...lengths].join(', ')}`);
  });

  it('GET /api/me describes the session, and answers 401 without one', async () => {
    const client = new Client(server.url);
    assert.equal((await client.get('/api/me')).status, 401);
    await client.login(PASSWORD);
    const me = await client.me();
    assert.equal(me.label, 'grandparents');
    assert.equal(me.canDownloadOriginals, true);
    const ttl = Date.parse(me.expiresAt) - Date.now();
    assert.ok(ttl > 11.9 * 3600_000 && ttl <= 12 * 3600_000, `expires in ${ttl} ms`);
  });

  it('a wrong password gets 401 and the login page with a clear message, and no link', async () => {
    const before = await tokenLinks(server);
    const client = new Client(server.url);
    const response = await client.login('not the password');
    assert.equal(response.status, 401);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    const page = await response.text();
    assert.match(page, /password is not right/);
    assert.match(page, /<input[^>]+type="password"/);
    assert.deepEqual(await tokenLinks(server), before);
    assert.equal(client.cookies.has('keepsake.sid'), false);
    const failure = server.logLines.find((line) => line['msg'] === 'login refused');
    assert.ok(failure, 'a log line per failure');
    assert.doesNotMatch(JSON.stringify(server.logLines), /not the password/, 'the password is never logged');
  });

  it('accepts JSON and answers JSON errors to JSON clients', async () => {
    const client = new Client(server.url);
    const wrong = await client.request('/login', { method: 'POST', json: { password: 'nope nope nope' } });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { error: string }).error, /not right/);
    const right = await client.request('/login', { method: 'POST', json: { password: PASSWORD } });
    assert.equal(right.status, 303);
    assert.equal((await client.me()).label, 'grandparents');
    // A body that is no JSON gets a plain 400: not the parser's own words (which name what parses it).
    const broken = await client.request('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{password: x' });
    assert.equal(broken.status, 400);
    assert.equal(await broken.text(), 'Bad Request\n');
  });

  it('follows a same-origin next, and never an off-site one', async () => {
    const cases: [string, string][] = [
      ['/albums/Summer%202024', '/albums/Summer%202024'],
      ['//evil.example/x', '/'],
      ['https://evil.example/', '/'],
      ['/\\evil.example', '/'],
      ['javascript:alert(1)', '/'],
    ];
    for (const [next, expected] of cases) {
      const response = await new Client(server.url).login(PASSWORD, { next });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get('location'), expected, `next=${next}`);
    }
  });

  it('refuses a cross-origin POST with 403', async () => {
    const before = await tokenLinks(server);
    const client = new Client(server.url);
    const response = await client.request('/login', {
      method: 'POST',
      form: { password: PASSWORD },
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(response.status, 403);
    const crossSite = await client.request('/login', {
      method: 'POST',
      form: { password: PASSWORD },
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(crossSite.status, 403);
    assert.deepEqual(await tokenLinks(server), before);
    const sameOrigin = await client.request('/login', { method: 'POST', form: { password: PASSWORD }, headers: { origin: server.url.replace(/\/$/, '') } });
    assert.equal(sameOrigin.status, 303);
  });

  it('a forged or tampered cookie is no session', async () => {
    const client = new Client(server.url);
    await client.login(PASSWORD);
    const forged = new Client(server.url);
    forged.cookies.set('keepsake.sid', client.cookies.get('keepsake.sid')!);
    forged.cookies.set('keepsake.sid.sig', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA');
    assert.equal((await forged.get('/api/me')).status, 401);
    const unsigned = new Client(server.url);
    unsigned.cookies.set('keepsake.sid', client.cookies.get('keepsake.sid')!);
    assert.equal((await unsigned.get('/api/me')).status, 401);
  });

  it('logout removes the link before answering, and the session is gone', async () => {
    const client = new Client(server.url);
    await client.login(PASSWORD);
    const { token } = await client.me();
    const response = await client.request('/logout', { method: 'POST' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/');
    // Both cookies go from the browser too, the signed session cookie with its signature.
    const cleared = response.headers.getSetCookie().filter((line) => /expires=Thu, 01 Jan 1970/i.test(line)).map((line) => line.split('=')[0]);
    for (const name of ['keepsake.sid', 'keepsake.sid.sig', 'keepsake_link']) assert.ok(cleared.includes(name), `${name} is cleared: ${response.headers.getSetCookie().join(' | ')}`);
    await assert.rejects(lstat(path.join(server.webRoot, token)), { code: 'ENOENT' });
    assert.equal((await client.get('/api/me')).status, 401);
    assert.equal(await server.services.store.sessions.byToken(token), undefined);
  });

  it('logging in again ends the previous session of that browser', async () => {
    const client = new Client(server.url);
    await client.login(PASSWORD);
    const first = (await client.me()).token;
    await client.login(PASSWORD);
    const second = (await client.me()).token;
    assert.notEqual(first, second);
    await assert.rejects(lstat(path.join(server.webRoot, first)), { code: 'ENOENT' });
  });
});

// SQLite's write lock: the suites run again with PostgreSQL as the store, where this file is not the database.
describe('login while the database cannot be written', { skip: process.env[TEST_POSTGRES_ENV] ? 'SQLite only: the store is PostgreSQL in this run' : false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ keys: [{ label: 'relatives', password: PASSWORD }] });
  });
  after(() => server?.close());

  it('answers 503 with Retry-After (try again soon), not a bare 500, and leaves no link; the next try logs in', async () => {
    // Another process (a keepsake command, a backup tool) holding the database's write lock past SQLite's wait.
    const holder = new Database(path.join(server.stateDir, 'keepsake.db'));
    holder.exec('BEGIN EXCLUSIVE');
    const client = new Client(server.url);
    let refused: Response;
    try {
      refused = await client.login(PASSWORD);
    } finally {
      holder.exec('COMMIT');
      holder.close();
    }
    assert.equal(refused.status, 503, await refused.clone().text());
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    assert.deepEqual(await tokenLinks(server), [], 'no link was made');
    assert.equal((await client.login(PASSWORD)).status, 303, 'once the lock is gone');
  });
});
