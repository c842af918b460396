import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../src/config.js';
import { REFUSED_LOGIN_PAUSE_MS } from '../src/http/routes/auth.js';
import { NOT_FOUND_BODY } from '../src/media-contract.js';
import { loadSettings } from '../src/settings.js';
import { noisyJpeg } from './fixtures/derivatives-images.js';
import { BROWSER_HEADERS, Client } from './helpers/client.js';
import { runKeepsake } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { nginxFor, NGINX_MISSING, type RunningWebServer } from './helpers/web-servers.js';

/*
 * The edge: what arrives at keepsake before any photo is chosen — who the client is behind a
 * proxy, floods of logins, half-sent requests, `next` targets, secrets in request lines,
 * derivative misses, foreign Host headers, and what a page says about the server. Every test
 * plays the client, the attacker or the admin and asserts on what they see: answers, log lines,
 * the access log of a real nginx.
 */

const PASSWORD = 'edge of the gallery';
const WRONG = 'not the password at all';
const KEYS = [{ label: 'edge', password: PASSWORD }];
const BUSY_BODY = 'Busy, try again shortly\n';
const FORBIDDEN = 'Forbidden\n';
// As in nginx.test.ts: skipped without nginx on a laptop, a failure on CI.
const needsNginx = { skip: process.env['CI'] ? false : NGINX_MISSING };

type Answer = { readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: string };

/** One request with exactly these headers, Host included (fetch will not let a client set Host). */
function send(base: string, method: string, target: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = request({ hostname, port, path: target, method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** A wrong (or right) password as a browser behind a proxy sends it: the proxy wrote X-Forwarded-For. */
async function loginVia(server: TestServer, forwardedFor: string, password = WRONG): Promise<{ status: number; retryAfter: string | null; body: string }> {
  const response = await new Client(server.url).request('/login', { method: 'POST', form: { password }, headers: { 'x-forwarded-for': forwardedFor } });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() };
}

async function loggedIn(server: TestServer): Promise<Client> {
  const client = new Client(server.url);
  const response = await client.login(PASSWORD);
  assert.equal(response.status, 303, 'logged in');
  return client;
}

/** The URLs of an album's images, by file name. */
async function imageUrls(client: Client, album: string): Promise<{ name: string; urls: Record<string, string> }[]> {
  const response = await client.get(`/api/albums/${encodeURIComponent(album)}`);
  assert.equal(response.status, 200, `/api/albums/${album}`);
  const page = (await response.json()) as { items: { name: string; type: string; urls: Record<string, string> }[] };
  return page.items.filter((item) => item.type === 'image').sort((a, b) => a.name.localeCompare(b.name));
}

/** A thumbnail URL that is in the cache: asked for once, so later answers are hits. */
async function cachedThumb(client: Client): Promise<string> {
  const [item] = await imageUrls(client, 'Summer 2024');
  const thumb = item!.urls['thumb']!;
  const first = await client.get(thumb);
  assert.equal(first.status, 200, 'the thumbnail is served (and so cached)');
  await first.arrayBuffer();
  return thumb;
}

/** A keepsake.config.json of its own (KEEPSAKE_CONFIG), for settings that have no environment variable. */
async function configFile(settings: Record<string, unknown>): Promise<string> {
  const file = path.join(await tempDir('keepsake-config-'), 'keepsake.config.json');
  await writeFile(file, JSON.stringify(settings));
  return file;
}

function logText(server: TestServer): string[] {
  return server.logLines.map((line) => JSON.stringify(line));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every `length`-character piece of a secret: a log holding any of them holds too much of it. */
function pieces(secret: string, length: number): string[] {
  return Array.from({ length: Math.max(1, secret.length - length + 1) }, (_, start) => secret.slice(start, start + length));
}

// ---------------------------------------------------------------------------------------------

describe('the client\'s address is the one the last trusted proxy saw', () => {
  let server: TestServer;
  before(async () => {
    // The default 5 free failures; the first wait is a minute instead of 1 s, so whether an attempt
    // lands inside it does not depend on how fast this machine hashes passwords.
    const config = await configFile({ guard: { login: { firstDelaySeconds: 60 } } });
    server = await startTestServer({ keys: KEYS, env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1', KEEPSAKE_CONFIG: config } });
  });
  after(() => server?.close());

  it('throttles wrong passwords by the address the proxy saw, whatever the client writes to its left', async () => {
    const answers = [];
    for (let n = 1; n <= 14; n += 1) answers.push(await loginVia(server, `203.0.113.${n}, 198.51.100.7`));
    // login-throttle.ts: 5 free failures (freeFailures); the 6th attempt is let through and opens
    // the first wait (firstDelaySeconds), so the 7th waits; refused attempts do not count, so the
    // rest wait too.
    assert.deepEqual(answers.map((answer) => answer.status), [...Array(6).fill(401), ...Array(8).fill(429)]);
    for (const answer of answers.slice(6)) {
      assert.match(answer.retryAfter ?? '', /^[1-9]\d*$/, '429 carries Retry-After');
      assert.match(answer.body, /Too many tries/);
    }
    const refused = server.logLines.filter((line) => line['msg'] === 'login refused');
    assert.deepEqual(refused.map((line) => line['address']), Array(6).fill('198.51.100.7'), 'each checked wrong password is logged against the real address');
    const throttled = server.logLines.filter((line) => line['msg'] === 'refused' && line['policy'] === 'login');
    assert.deepEqual(throttled.map((line) => line['address']), Array(8).fill('198.51.100.7'), 'each throttled attempt too');
    assert.ok(logText(server).every((line) => !line.includes('203.0.113.')), 'what the client wrote is never taken for its address');
  });

  it('refuses to start with KEEPSAKE_TRUST_PROXY=true on a public address, in one clear line naming the setting', async () => {
    const [mediaRoot, stateDir, cwd] = await Promise.all([tempDir('keepsake-media-'), tempDir('keepsake-state-'), tempDir('keepsake-cwd-')]);
    const env = { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_HOST: '0.0.0.0', KEEPSAKE_PORT: '0', KEEPSAKE_TRUST_PROXY: 'true' };
    // Checked in-process first: should the check be missing, `serve` below would listen on 0.0.0.0.
    assert.throws(
      () => loadSettings(env, cwd),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.problems.length, 1, error.problems.join('\n'));
        assert.match(error.problems[0]!, /KEEPSAKE_TRUST_PROXY/);
        assert.match(error.problems[0]!, /0\.0\.0\.0/);
        return true;
      },
    );
    const serve = await runKeepsake(['serve'], env);
    assert.equal(serve.code, 2, serve.stdout + serve.stderr);
    const lines = serve.stderr.trim().split('\n');
    assert.equal(lines.length, 1, serve.stderr);
    assert.match(lines[0]!, /^keepsake: Invalid setting KEEPSAKE_TRUST_PROXY\b.*expected /);
    assert.doesNotMatch(serve.stdout, /running/);
  });

  it('accepts KEEPSAKE_TRUST_PROXY=true on loopback, meaning the proxy on this machine', async () => {
    const [mediaRoot, stateDir, cwd] = await Promise.all([tempDir('keepsake-media-'), tempDir('keepsake-state-'), tempDir('keepsake-cwd-')]);
    const settings = loadSettings({ KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_HOST: '127.0.0.1', KEEPSAKE_TRUST_PROXY: 'true' }, cwd);
    assert.deepEqual(settings.trustProxy, { mode: 'list', entries: ['loopback'] });
  });
});

// ---------------------------------------------------------------------------------------------

describe('logins cannot starve photos', () => {
  let server: TestServer;
  let family: Client;
  let thumb: string;
  /** Flood addresses whose login was refused as busy, and one whose wrong password was checked. */
  const busy: string[] = [];
  let checked: string | undefined;

  before(async () => {
    // A strict throttle (1 free failure, then a minute's wait) keeps the checks below short and
    // independent of how fast this machine hashes passwords.
    const config = await configFile({ guard: { login: { freeFailures: 1, firstDelaySeconds: 60 } } });
    server = await startTestServer({ keys: KEYS, env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1', KEEPSAKE_CONFIG: config } });
    family = await loggedIn(server);
    thumb = await cachedThumb(family);
  });
  after(() => server?.close());

  it('answers a flood of logins with 503, Retry-After and a page saying to wait, never 500, while photos are served', async (t) => {
    const addresses = Array.from({ length: 40 }, (_, index) => `192.0.2.${index + 1}`);
    let settled = 0;
    const flood = addresses.map((address) =>
      loginVia(server, address).then((answer) => {
        settled += 1;
        return { address, ...answer };
      }),
    );
    // (b) A logged-in visitor's cached thumbnail, asked for while the flood runs (no timing is
    // asserted: how fast is for the benchmark).
    const photo = await family.get(thumb);
    const photoBytes = (await photo.arrayBuffer()).byteLength;
    const arrivedAfter = settled;
    const answers = await Promise.all(flood);

    const tally = new Map<number, number>();
    for (const answer of answers) tally.set(answer.status, (tally.get(answer.status) ?? 0) + 1);
    t.diagnostic(`flood of 40: ${[...tally].map(([status, count]) => `${count} × ${status}`).join(', ')}; the photo, asked for with the flood, was answered after ${arrivedAfter} of its answers`);
    assert.ok(answers.every((answer) => answer.status === 401 || answer.status === 503), `only 401 and 503: ${[...tally.keys()].join(', ')}`);
    assert.ok((tally.get(503) ?? 0) > 0, 'some logins are refused as busy');
    assert.ok((tally.get(401) ?? 0) > 0, 'some are checked');
    for (const answer of answers.filter((candidate) => candidate.status === 503)) {
      assert.match(answer.retryAfter ?? '', /^[1-9]\d*$/, '503 carries Retry-After');
      assert.match(answer.body, /Wait a moment and try again/, 'the page says to wait');
    }
    busy.push(...answers.filter((answer) => answer.status === 503).map((answer) => answer.address));
    checked = answers.find((answer) => answer.status === 401)?.address;

    assert.equal(photo.status, 200, 'the cached thumbnail is served during the flood');
    assert.ok(photoBytes > 0);
    assert.equal(photo.headers.get('content-type'), 'image/webp');
  });

  it('does not count a login refused as busy against its address', async () => {
    assert.ok(busy.length >= 2 && checked !== undefined, 'the flood gave busy and checked addresses');
    // 1 wrong password is free. Had the busy refusal counted, the wrong one would be the 2nd
    // failure (letting it through opens the wait) and the right password after it would get 429.
    const sequence = async (address: string) => [(await loginVia(server, address)).status, (await loginVia(server, address, PASSWORD)).status];
    const [first, second, control] = await Promise.all([sequence(busy[0]!), sequence(busy[1]!), sequence(checked!)]);
    assert.deepEqual(first, [401, 303], `${busy[0]}, refused as busy in the flood`);
    assert.deepEqual(second, [401, 303], `${busy[1]}, refused as busy in the flood`);
    // The control: an address whose wrong password was checked in the flood does carry it.
    assert.deepEqual(control, [401, 429], `${checked}, whose wrong password was checked in the flood`);
  });

  it('answers a login it refuses unchecked after a pause, so one connection sends about one a second', async () => {
    // freeFailures 1: the 2nd failure opens the wait, and the 3rd attempt is refused at once by the throttle.
    const address = '198.51.100.77';
    assert.equal((await loginVia(server, address)).status, 401);
    assert.equal((await loginVia(server, address)).status, 401);
    const started = performance.now();
    const refused = await loginVia(server, address, PASSWORD);
    const tookMs = performance.now() - started;
    assert.equal(refused.status, 429);
    // The wait here is 60 s (firstDelaySeconds), so the whole pause applies.
    assert.ok(tookMs >= REFUSED_LOGIN_PAUSE_MS.min - 5, `answered after ${tookMs.toFixed(0)} ms, not before the pause of at least ${REFUSED_LOGIN_PAUSE_MS.min} ms`);
    // Many at once are paused side by side, not one after another: the pause costs a timer, not a turn.
    const burstStarted = performance.now();
    const burst = await Promise.all(Array.from({ length: 20 }, () => loginVia(server, address)));
    const burstMs = performance.now() - burstStarted;
    assert.ok(burst.every((answer) => answer.status === 429), `all refused: ${burst.map((answer) => answer.status).join(' ')}`);
    assert.ok(burstMs < 4 * REFUSED_LOGIN_PAUSE_MS.max, `20 refusals at once took ${burstMs.toFixed(0)} ms`);
  });

  it('counts IPv6 login failures per /56: other /64s of the same /56 share one throttle, another /56 does not', async () => {
    // All in 2001:db8:1:100::/56, each in a /64 of its own: the 2nd failure opens the wait.
    const statuses = [];
    for (const group of ['100', '1ff', '123']) statuses.push((await loginVia(server, `2001:db8:1:${group}::1`)).status);
    assert.deepEqual(statuses, [401, 401, 429]);
    const rightPassword = await loginVia(server, '2001:db8:1:1a0::1', PASSWORD);
    assert.deepEqual([rightPassword.status, /^[1-9]\d*$/.test(rightPassword.retryAfter ?? '')], [429, true], 'yet another /64 of that /56 waits too, even with the right password');
    assert.equal((await loginVia(server, '2001:db8:1:200::1')).status, 401, 'another /56 is not throttled: its wrong password is checked');
    assert.equal((await loginVia(server, '2001:db8:1:200::2', PASSWORD)).status, 303);
  });
});

// ---------------------------------------------------------------------------------------------

interface HalfRequest {
  readonly socket: Socket;
  /** Milliseconds from opening to the server closing it (Infinity: still open after 17 s). */
  readonly closed: Promise<number>;
  isOpen(): boolean;
  received(): string;
}

/** A connection that sends half a request's headers and then nothing (slowloris). */
function openHalfRequest(port: number): Promise<HalfRequest> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let open = true;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a reset is one way of being closed
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      const openedAt = performance.now();
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const closed = new Promise<number>((done) => {
        const timer = setTimeout(() => {
          open = false;
          socket.destroy();
          done(Infinity);
        }, 17_000);
        const finish = () => {
          if (!open) return;
          open = false;
          clearTimeout(timer);
          done(performance.now() - openedAt);
        };
        socket.once('end', finish);
        socket.once('close', finish);
      });
      resolve({ socket, closed, isOpen: () => open, received: () => received });
    });
  });
}

describe('slow and idle clients are cut off', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ keys: KEYS });
  });
  after(() => server?.close());

  it('closes 100 half-sent requests within about 15 s, and serves everyone else meanwhile', async (t) => {
    const family = await loggedIn(server);
    const thumb = await cachedThumb(family);
    const halves = await Promise.all(Array.from({ length: 100 }, () => openHalfRequest(server.port)));
    try {
      const health = await family.get('/healthz');
      assert.deepEqual([health.status, await health.json()], [200, { ok: true }], '/healthz while 100 connections hang');
      const photo = await family.get(thumb);
      assert.equal(photo.status, 200, 'a cached photo while 100 connections hang');
      assert.ok((await photo.arrayBuffer()).byteLength > 0);
      assert.equal(halves.filter((half) => half.isOpen()).length, 100, 'the half-sent requests were still open meanwhile');

      const times = await Promise.all(halves.map((half) => half.closed));
      const slowest = Math.max(...times);
      const answers = new Set(halves.map((half) => half.received().split('\r\n')[0] || '(nothing)'));
      t.diagnostic(`half-sent requests closed after ${Math.round(Math.min(...times))}–${Math.round(slowest)} ms; answered: ${[...answers].join(', ')}`);
      assert.equal(times.filter((ms) => ms > 16_000).length, 0, `every half-sent request closed within 16 s (slowest ${Math.round(slowest)} ms)`);
    } finally {
      for (const half of halves) half.socket.destroy();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('`next` never leaves the site', () => {
  let server: TestServer;
  let origin: string;
  before(async () => {
    // Behind a trusted proxy, so each login can come from an address of its own and a few run at
    // once (logins from one address at once would be throttled: each counts until it succeeds).
    server = await startTestServer({ keys: KEYS, env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1' } });
    origin = new URL(server.url).origin;
  });
  after(() => server?.close());

  let logins = 0;
  async function loginWithNext(next: string): Promise<string> {
    logins += 1;
    const headers = { origin, 'x-forwarded-for': `198.51.100.${logins}` };
    const response = await new Client(server.url).request('/login', { method: 'POST', form: { password: PASSWORD, next }, headers });
    assert.equal(response.status, 303, `next=${JSON.stringify(next)}: logged in`);
    return response.headers.get('location') ?? '';
  }

  it('sends a login to a path on this site, whatever `next` says', async () => {
    const hostile = [
      '/.//evil.example/',
      '/..//evil.example/',
      '//evil.example/',
      '/\\evil.example',
      '/%2F%2Fevil.example',
      'https://evil.example/',
      '/\t/evil.example',
      '/./\\\\evil.example',
      '/./\\evil.example',
      '/\n/evil.example',
      '/%09/evil.example',
    ];
    // Six at a time: fewer than the password checks that may wait (2 at once, 8 waiting).
    const locations: string[] = [];
    for (let start = 0; start < hostile.length; start += 6) locations.push(...(await Promise.all(hostile.slice(start, start + 6).map(loginWithNext))));
    for (const [index, next] of hostile.entries()) {
      const location = locations[index]!;
      const label = `next=${JSON.stringify(next)} → Location ${JSON.stringify(location)}`;
      assert.ok(location.startsWith('/') && !location.startsWith('//'), label);
      assert.equal(new URL(location, server.url).origin, origin, label);
    }
  });

  it('keeps a normal `next` as it is', async () => {
    const client = new Client(server.url);
    const response = await client.request('/login', { method: 'POST', form: { password: PASSWORD, next: '/albums/Summer%202024' }, headers: { origin } });
    assert.deepEqual([response.status, response.headers.get('location')], [303, '/albums/Summer%202024']);
    assert.equal((await client.get('/albums/Summer%202024')).status, 200, 'and it leads to the album');
  });
});

// ---------------------------------------------------------------------------------------------

describe('no secret in a log', () => {
  let server: TestServer;
  let sharePath: string;
  let payload: string;
  let signature: string;
  const tokens: string[] = [];

  before(async () => {
    server = await startTestServer({ keys: KEYS, env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1' } });
    const printed = await runKeepsake(['share', 'Summer 2024', '--ttl', '1h'], server.env);
    assert.equal(printed.code, 0, printed.stdout + printed.stderr);
    const match = /(\/s\/([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43}))(?:\s|$)/.exec(printed.stdout);
    assert.ok(match !== null, printed.stdout);
    [, sharePath = '', payload = '', signature = ''] = match;
  });
  after(() => server?.close());

  /** What of the secrets a text holds: the whole of one, or any 12 characters of a share link, or a token beyond its first letters. */
  function leaks(text: string): string[] {
    const found: string[] = [];
    for (const [name, secret] of [['payload', payload], ['signature', signature]] as const) {
      if (pieces(secret, 12).some((piece) => text.includes(piece))) found.push(name);
    }
    for (const token of tokens) if (text.includes(token.slice(3))) found.push(`token ${token.slice(0, 3)}…`);
    return found;
  }

  it('keepsake\'s log shows a share link and a token only shortened', async () => {
    const visitor = new Client(server.url);
    const shown = await visitor.get(sharePath);
    assert.equal(shown.status, 200, `GET ${sharePath}`);
    const opened = await visitor.request(sharePath, { method: 'POST', headers: { origin: new URL(server.url).origin } });
    assert.deepEqual([opened.status, opened.headers.get('location')], [303, '/albums/Summer%202024'], `POST ${sharePath}`);
    const token = (await visitor.me()).token;
    tokens.push(token);
    const [item] = await imageUrls(visitor, 'Summer 2024');
    for (const url of [item!.urls['thumb']!, item!.urls['original']!]) assert.equal((await visitor.get(url)).status, 200, url);
    assert.equal((await visitor.get(`/${token}/original/Summer%202024/nothing-here.jpg`)).status, 404);

    const lines = logText(server);
    const leaking = lines.filter((line) => leaks(line).length > 0);
    assert.deepEqual(leaking, [], 'no log line holds a share link or a token');
    const paths = server.logLines.filter((line) => line['msg'] === 'request').map((line) => `${String(line['method'])} ${String(line['path'])}`);
    const shortShare = `/s/….${signature.slice(0, 3)}…`;
    assert.ok(paths.includes(`GET ${shortShare}`) && paths.includes(`POST ${shortShare}`), `the share link's request lines read ${shortShare}: ${paths.join(', ')}`);
    assert.ok(paths.includes(`GET /${token.slice(0, 3)}…/original/Summer 2024/nothing-here.jpg`), `media request lines keep 3 letters of the token (the path decoded once): ${paths.join(', ')}`);
  });

  it('the access log of a real nginx in front shows them only shortened too', needsNginx, async (t) => {
    if (NGINX_MISSING !== undefined) throw new Error(NGINX_MISSING);
    const nginx: RunningWebServer = await nginxFor(server);
    try {
      const visitor = new Client(nginx.url);
      assert.equal((await visitor.get(sharePath)).status, 200, `GET ${sharePath} through nginx`);
      const opened = await visitor.request(sharePath, { method: 'POST', headers: { origin: new URL(nginx.url).origin } });
      assert.equal(opened.status, 303, `POST ${sharePath} through nginx`);
      const token = (await visitor.me()).token;
      tokens.push(token);
      const [item] = await imageUrls(visitor, 'Summer 2024');
      const media = [item!.urls['original']!, item!.urls['thumb']!];
      for (const url of media) assert.equal((await visitor.get(url)).status, 200, `${url} through nginx`);

      const logFile = path.join(nginx.dir, 'keepsake.access.log');
      let log = '';
      // nginx writes a request's line once it has answered it: wait for all six.
      for (let waited = 0; waited < 3000; waited += 50) {
        log = existsSync(logFile) ? await readFile(logFile, 'utf8') : '';
        if (log.trim().split('\n').length >= 6) break;
        await delay(50);
      }
      t.diagnostic(`nginx access log:\n${log.trim()}`);
      assert.ok(log.includes(' /api/me '), 'the access log is written');
      assert.deepEqual(leaks(log), [], 'the access log holds no share link and no token');
      // The access log is written with escape=json, which keeps the ellipsis as it is.
      const ellipsis = '…';
      const shortShare = `/s/${ellipsis}\\.${escapeRegExp(signature.slice(0, 3))}${ellipsis}`;
      assert.match(log, new RegExp(`"GET ${shortShare} HTTP/1\\.1" 200 `), 'the share link, shortened');
      assert.match(log, new RegExp(`"POST ${shortShare} HTTP/1\\.1" 303 `), 'the share link, shortened');
      for (const url of media) {
        // nginx logs the path it served: decoded once, as keepsake's own log does.
        const rest = decodeURIComponent(url.slice(1 + token.length));
        assert.match(log, new RegExp(`"GET /${token.slice(0, 3)}${ellipsis}${escapeRegExp(rest)} HTTP/1\\.1" 200 `), `${rest}: the token, shortened`);
      }
      assert.deepEqual(logText(server).filter((line) => leaks(line).length > 0), [], 'nor does keepsake\'s own log, behind nginx');
    } finally {
      await nginx.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('one visitor cannot queue the box\'s CPU', () => {
  const PHOTOS = 13;
  let server: TestServer;
  let first: Client;
  let second: Client;
  let items: { name: string; urls: Record<string, string> }[];
  let otherUrl: string;

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    const album = path.join(mediaRoot, 'Big');
    await mkdir(album, { recursive: true });
    const photo = await noisyJpeg(3000, 2000);
    for (let index = 1; index <= PHOTOS; index += 1) await writeFile(path.join(album, `photo-${String(index).padStart(2, '0')}.jpg`), photo);
    // A cap of 4 derivatives in flight per session (24 by default), so a dozen misses cross it.
    const config = await configFile({ guard: { rates: { misses: { perSession: 4 } } } });
    server = await startTestServer({ mediaRoot, keys: KEYS, env: { KEEPSAKE_CONFIG: config } });
    await server.services.library.scan();
    // Thumbnails and small images are made ahead of time; let that finish, so only our misses run.
    const { cacheDir } = server.services;
    const made = async (variant: string) => (await readdir(path.join(cacheDir, variant, 'Big')).catch(() => [])).filter((name) => !name.startsWith('.')).length;
    for (let waited = 0; waited < 30_000 && ((await made('thumb')) < PHOTOS || (await made('small')) < PHOTOS); waited += 100) await delay(100);
    await rm(path.join(cacheDir, 'large'), { recursive: true, force: true });
    first = await loggedIn(server);
    second = await loggedIn(server);
    items = await imageUrls(first, 'Big');
    assert.equal(items.length, PHOTOS);
    otherUrl = (await imageUrls(second, 'Big'))[PHOTOS - 1]!.urls['large']!;
  });
  after(() => server?.close());

  it('answers misses beyond the session\'s few in flight with 503 and Retry-After, and serves another session meanwhile', async (t) => {
    const started = performance.now();
    const asked = items.slice(0, 12).map(async (item) => {
      const response = await first.get(item.urls['large']!);
      return { name: item.name, status: response.status, retryAfter: response.headers.get('retry-after'), body: Buffer.from(await response.arrayBuffer()), at: performance.now() - started };
    });
    await delay(150);
    const otherSentAt = performance.now() - started;
    const other = await second.get(otherUrl);
    const otherBody = Buffer.from(await other.arrayBuffer());
    const answers = await Promise.all(asked);

    const served = answers.filter((answer) => answer.status === 200);
    const busy = answers.filter((answer) => answer.status === 503);
    t.diagnostic(`12 misses from one session: ${served.length} × 200, ${busy.length} × 503; the other session's miss was sent at ${Math.round(otherSentAt)} ms, the last 200 came at ${Math.round(Math.max(...served.map((answer) => answer.at)))} ms`);
    assert.deepEqual(answers.filter((answer) => answer.status !== 200 && answer.status !== 503).map((answer) => answer.status), [], 'only 200 and 503, never 500');
    assert.ok(busy.length > 0, 'some misses are refused as busy');
    assert.ok(served.length >= 4, 'the session\'s share of misses is made (4 at once here)');
    for (const answer of busy) {
      assert.equal(answer.body.toString(), BUSY_BODY, `${answer.name}: the contract's 503 body`);
      assert.match(answer.retryAfter ?? '', /^[1-9]\d*$/, `${answer.name}: Retry-After`);
    }
    for (const answer of served) assert.ok(answer.body.length > 0, `${answer.name}: bytes`);
    assert.ok(otherSentAt < Math.max(...served.map((answer) => answer.at)), 'the other session asked while the first session\'s misses were in flight');
    assert.equal(other.status, 200, 'another session\'s miss is made meanwhile');
    assert.ok(otherBody.length > 0);
  });

  it('lets one session ask 50 times at once for the same missing derivative: it joins the one being made', async () => {
    const { cacheDir } = server.services;
    const item = items.find((candidate) => !existsSync(path.join(cacheDir, ...decodeURIComponent(candidate.urls['large']!).split('/').slice(2))));
    assert.ok(item !== undefined, 'a photo whose large derivative is still missing');
    const decodesBefore = server.services.derivatives.stats().decodes;
    const answers = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const response = await first.get(item.urls['large']!);
        return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
      }),
    );
    assert.deepEqual(answers.map((answer) => answer.status), Array(50).fill(200));
    assert.ok(answers.every((answer) => answer.body.length > 0 && answer.body.equals(answers[0]!.body)), 'the same bytes to every one');
    assert.equal(server.services.derivatives.stats().decodes - decodesBefore, 1, 'made once');
  });
});

// ---------------------------------------------------------------------------------------------

describe('Host is checked when the public URL is known', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ keys: KEYS, env: { KEEPSAKE_PUBLIC_URL: 'http://photos.example.test' } });
  });
  after(() => server?.close());

  const browser = (host: string) => ({ ...BROWSER_HEADERS, host });
  const loginForm = (host: string) =>
    send(server.url, 'POST', '/login', { ...browser(host), 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ password: PASSWORD }).toString());

  it('refuses another Host with 403, pages and login alike', async () => {
    const page = await send(server.url, 'GET', '/', browser('evil.example'));
    assert.deepEqual([page.status, page.body], [403, FORBIDDEN], 'GET / with Host: evil.example');
    const login = await loginForm('evil.example');
    assert.deepEqual([login.status, login.body], [403, FORBIDDEN], 'POST /login with Host: evil.example');
    assert.equal(login.headers['set-cookie'], undefined, 'and no session');
  });

  it('serves its own Host', async () => {
    const page = await send(server.url, 'GET', '/', browser('photos.example.test'));
    assert.equal(page.status, 200, 'GET / with Host: photos.example.test');
    assert.match(page.body, /password/i, 'the login page');
    const login = await loginForm('photos.example.test');
    assert.deepEqual([login.status, login.headers.location], [303, '/'], 'POST /login with Host: photos.example.test');
  });

  it('answers /healthz whatever the Host', async () => {
    for (const host of ['evil.example', 'photos.example.test', `127.0.0.1:${server.port}`]) {
      const health = await send(server.url, 'GET', '/healthz', { host });
      assert.deepEqual([health.status, JSON.parse(health.body)], [200, { ok: true }], `Host: ${host}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('visitors never learn server paths', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ mediaRoot: await tempDir('keepsake-empty-media-'), keys: KEYS });
  });
  after(() => server?.close());

  it('the empty gallery names no server path; the log names the media root at start-up', async () => {
    const visitor = await loggedIn(server);
    const home = await visitor.get('/');
    const page = await home.text();
    assert.equal(home.status, 200);
    assert.match(page, /No albums yet/);
    const secretPaths = new Set([server.mediaRoot, await realpath(server.mediaRoot), server.stateDir, await realpath(server.stateDir), server.webRoot]);
    const others = [await (await visitor.get('/api/albums')).text(), await (await visitor.get('/albums/Nowhere')).text()];
    for (const text of [page, ...others]) {
      for (const secret of secretPaths) assert.ok(!text.includes(secret), `a page holds ${secret}`);
    }
    const starting = server.logLines.find((line) => line['msg'] === 'starting');
    assert.ok(starting !== undefined, 'a start-up line');
    assert.equal(starting['mediaRoot'], await realpath(server.mediaRoot), 'the admin\'s log says which media root is served');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the edge of the edge', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ mediaRoot: await tempDir('keepsake-media-'), keys: KEYS });
  });
  after(() => server?.close());

  it('/healthz is 503 while a folder keepsake writes to is a file in its place, and 200 once it is back', async () => {
    // access() alone passes for a file (and anything at all for root): logins failed while /healthz said ok.
    for (const folder of [server.webRoot, server.services.cacheDir]) {
      const aside = `${folder}.aside`;
      await rm(aside, { recursive: true, force: true });
      await rename(folder, aside);
      await writeFile(folder, 'not a folder');
      try {
        const health = await send(server.url, 'GET', '/healthz', {});
        assert.deepEqual([health.status, JSON.parse(health.body)], [503, { ok: false }], `${path.basename(folder)} is a file`);
      } finally {
        await rm(folder);
        await rename(aside, folder);
      }
      const health = await send(server.url, 'GET', '/healthz', {});
      assert.equal(health.status, 200, `${path.basename(folder)} is back`);
    }
  });

  it('a request node cannot parse gets a 400 with the headers every answer carries', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.end('GARBAGE\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /\r\nX-Robots-Tag: noindex, nofollow, noimageindex\r\n/i);
    assert.match(answer, /\r\nX-Content-Type-Options: nosniff\r\n/i);
    assert.match(answer, /\r\n\r\nBad Request\n$/);
  });

  it('a route asked with the wrong method says 405 and which methods it takes; an unknown path stays the one 404', async () => {
    const family = await loggedIn(server);
    for (const [method, target, allow] of [
      ['DELETE', '/api/me', 'GET, HEAD'],
      ['POST', '/api/albums', 'GET, HEAD'],
      ['PUT', '/login', 'GET, HEAD, POST'],
      ['GET', '/logout', 'POST'],
      ['GET', '/preferences', 'POST'],
    ] as const) {
      const answer = await family.request(target, { method });
      assert.equal(answer.status, 405, `${method} ${target}`);
      const allowed = (answer.headers.get('allow') ?? '').split(/,\s*/).sort().join(', ');
      assert.equal(allowed, allow, `${method} ${target}`);
      assert.equal(answer.headers.get('x-robots-tag'), 'noindex, nofollow, noimageindex');
      await answer.arrayBuffer();
    }
    assert.equal((await family.me()).label, 'edge', 'a GET /logout ends nothing');
    const { token } = await family.me();
    for (const [method, target] of [['DELETE', '/no-such-page'], ['POST', `/${token}/thumb/nothing.webp`], ['DELETE', '/abcdefghijklm/thumb/x.webp']] as const) {
      const answer = await family.request(target, { method });
      assert.deepEqual([answer.status, await answer.text()], [404, NOT_FOUND_BODY], `${method} ${target}`);
    }
  });

  it('GET /login (a bookmark, a password manager) lands on the login page, keeping a same-site next', async () => {
    const visitor = new Client(server.url);
    for (const [target, location] of [['/login', '/'], ['/login?next=%2Falbums%2FSpace', '/albums/Space'], ['/login?next=https%3A%2F%2Fevil.example%2F', '/']] as const) {
      const answer = await visitor.get(target);
      assert.deepEqual([answer.status, answer.headers.get('location')], [303, location], target);
    }
  });

  it('an API answer that refuses is JSON, like the rest of the API', async () => {
    const family = await loggedIn(server);
    for (const [method, target, status] of [['GET', '/api/albums/No%20such%20album', 404], ['GET', '/api/nothing-here', 404], ['POST', '/api/me', 405]] as const) {
      const answer = await family.request(target, { method });
      assert.equal(answer.status, status, `${method} ${target}`);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, `${method} ${target}`);
      const body = (await answer.json()) as { error?: unknown };
      assert.equal(typeof body.error, 'string', `${method} ${target}`);
    }
  });
});
