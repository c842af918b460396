import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { REFUSAL_BODIES, TEXT_TYPE, UNAVAILABLE_RETRY_AFTER_S } from '../src/media-contract.js';
import { BROWSER_HEADERS, Client, cookieHeader } from './helpers/client.js';
import { runKeepsake } from './helpers/cli.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { nginxFor, NGINX_MISSING, raw, type Answer, type RunningWebServer } from './helpers/web-servers.js';

/*
 * keepsake behind a real nginx (Debian's), unprivileged on loopback with its own prefix, temp
 * paths, pid file and logs in a temp dir. nginx runs in the foreground as our child and is
 * stopped by its PID. Everything is asserted as a browser, a stranger or a scraper sees it.
 */

const FAMILY = 'nginx family password';
const SUMMER = 'only the summer please';
const KIDS = 'the kids albums please';
const NOT_FOUND = 'Not Found\n';
const ROBOTS_TAG = 'noindex, nofollow, noimageindex';
const missing = NGINX_MISSING;

async function firstImage(client: Client, album: string): Promise<{ thumb: string; large: string; original: string; name: string }> {
  const page = (await (await client.get(`/api/albums/${encodeURIComponent(album)}`)).json()) as { items: { name: string; type: string; urls: Record<string, string> }[] };
  const item = page.items.find((candidate) => candidate.name === 'beach.jpg') ?? page.items.find((candidate) => candidate.type === 'image')!;
  return { thumb: item.urls['thumb']!, large: item.urls['large']!, original: item.urls['original']!, name: item.name };
}

function assertRefused(answer: Answer, label: string): void {
  assert.ok([400, 403, 404].includes(answer.status), `${label}: answered ${answer.status}`);
  assert.ok(!answer.body.includes('root:'), `${label}: leaked /etc/passwd`);
}

describe('keepsake behind nginx', { skip: process.env['CI'] ? false : missing }, () => {
  let server: TestServer;
  let nginx: RunningWebServer;
  let family: Client;
  let token: string;
  let urls: { thumb: string; large: string; original: string; name: string };
  const browser = (client: Client) => ({ ...BROWSER_HEADERS, cookie: cookieHeader(client) });

  before(async () => {
    if (missing !== undefined) throw new Error(missing);
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    // An album link planted inside an album, and a video: both beyond what the fixtures hold.
    await symlink('../Kids', path.join(mediaRoot, 'Summer 2024', 'kids-link'));
    await writeFile(path.join(mediaRoot, 'Summer 2024', 'clip.mp4'), Buffer.alloc(64 * 1024, 7));
    server = await startTestServer({
      mediaRoot,
      keys: [{ label: 'everyone', password: FAMILY }, { label: 'summer', password: SUMMER, albums: ['Summer 2024'] }, { label: 'kids', password: KIDS, albums: ['Kids/*'] }],
      env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1', KEEPSAKE_SESSION_TTL: '2s', KEEPSAKE_REMEMBER_TTL: '1h', KEEPSAKE_SWEEP_INTERVAL: '* * * * * *' },
    });
    nginx = await nginxFor(server);
    family = new Client(nginx.url);
    assert.equal((await family.login(FAMILY, { remember: 'on' })).status, 303);
    token = (await family.me()).token;
    urls = await firstImage(family, 'Summer 2024');
  });
  after(async () => Promise.all([nginx?.stop(), server?.close().catch(() => undefined)]));

  it('logs in through nginx, with X-Forwarded-For written by nginx alone, and sets the link cookie', async () => {
    assert.ok(family.cookies.has('keepsake_link'));
    const spoofed = new Client(nginx.url);
    await spoofed.request('/login', { method: 'POST', form: { password: FAMILY }, headers: { 'x-forwarded-for': '198.51.100.7' } });
    const logins = server.logLines.filter((line) => line['msg'] === 'login');
    assert.ok(logins.length >= 2 && logins.every((line) => line['address'] === '127.0.0.1'), JSON.stringify(logins.map((line) => line['address'])));
  });

  it('serves originals from disk, and a derivative miss through keepsake, then from disk', async () => {
    const original = await family.get(urls.original);
    const headers = ['content-type', 'cache-control', 'x-robots-tag'].map((name) => original.headers.get(name));
    assert.deepEqual([original.status, ...headers], [200, 'image/jpeg', 'private, max-age=3600', ROBOTS_TAG]);
    assert.deepEqual(Buffer.from(await original.arrayBuffer()), await readFile(path.join(server.mediaRoot, 'Summer 2024', urls.name)));
    // keepsake makes small variants ahead of time: once it has, take the file away to force a miss.
    const cacheFile = path.join(server.services.cacheDir, ...decodeURIComponent(urls.thumb).split('/').slice(2));
    for (let waited = 0; !existsSync(cacheFile) && waited < 10_000; waited += 100) await delay(100);
    await rm(cacheFile, { force: true });
    const miss = await family.get(urls.thumb);
    assert.deepEqual([miss.status, miss.headers.get('x-robots-tag')], [200, ROBOTS_TAG], 'proxied answers carry the header once');
    const made = Buffer.from(await miss.arrayBuffer());
    assert.deepEqual(await readFile(cacheFile), made, 'the miss left the derivative on disk');
    const hit = await family.get(urls.thumb);
    assert.deepEqual([hit.status, hit.headers.get('cache-control')], [200, 'private, max-age=31536000, immutable']);
    assert.deepEqual(Buffer.from(await hit.arrayBuffer()), made);
  });

  it('answers 404 without the token proof: no cookie, another session\'s cookie, a forged one', async () => {
    const other = new Client(nginx.url);
    await other.login(FAMILY, { remember: 'on' });
    const answers = [
      await raw(nginx.url, urls.original, BROWSER_HEADERS),
      await raw(nginx.url, urls.original, { ...BROWSER_HEADERS, cookie: `keepsake.sid=${family.cookies.get('keepsake.sid')}` }),
      await raw(nginx.url, urls.original, browser(other)),
      await raw(nginx.url, urls.original, { ...BROWSER_HEADERS, cookie: 'keepsake_link=AAAAAAAAAAAAAAAAAAAAAA' }),
    ];
    for (const [index, answer] of answers.entries()) {
      assert.deepEqual([answer.status, answer.body.toString(), answer.headers['x-robots-tag']], [404, NOT_FOUND, ROBOTS_TAG], `case ${index}`);
    }
  });

  it('refuses planted links, hidden files, traversal encodings, listings and other files', async () => {
    const summer = new Client(nginx.url);
    await summer.login(SUMMER, { remember: 'on' });
    const planted = `/${(await summer.me()).token}/original/Summer%202024/kids-link/Alice/alice-1.jpg`;
    assertRefused(await raw(nginx.url, planted, browser(summer)), 'album link planted in a granted album');
    const base = `/${token}/original/Summer%202024`;
    const probes = [
      `${base}/passwd.jpg`, `${base}/etc/passwd`, `${base}/etc/hostname.jpg`, `${base}/.dotfile.jpg`, `/${token}/original/.hidden/secret.jpg`,
      `/${token}/original/%2ehidden/secret.jpg`, `${base}/notes.txt`, `${base}/`, `/${token}/`, `/${token}/original/`,
      `${base}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`, `${base}/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd`, `${base}/%252e%252e%252f%252e%252e%252fetc%252fpasswd.jpg`,
      `${base}/..%5c..%5c..%5c..%5cetc%5cpasswd.jpg`, `${base}\\..\\..\\..\\..\\etc\\passwd.jpg`, `${base}/beach.jpg%00.txt`, `/${token}/../../../../etc/passwd`,
    ];
    for (const probe of probes) {
      const answer = await raw(nginx.url, probe, browser(family));
      assertRefused(answer, probe); // 400, 403 or 404: never a listing, never a file
    }
  });

  it('serves albums granted below a view folder (Kids/*) through keepsake, and nothing else', async () => {
    const kids = new Client(nginx.url);
    await kids.login(KIDS, { remember: 'on' });
    const kidsToken = (await kids.me()).token;
    const alice = await raw(nginx.url, `/${kidsToken}/original/Kids/Alice/alice-1.jpg`, browser(kids));
    assert.deepEqual([alice.status, alice.body], [200, await readFile(path.join(server.mediaRoot, 'Kids', 'Alice', 'alice-1.jpg'))]);
    assertRefused(await raw(nginx.url, `/${kidsToken}/original/Kids/loose-in-kids.jpg`, browser(kids)), 'a loose photo in Kids');
    assertRefused(await raw(nginx.url, `/${kidsToken}/original/Summer%202024/beach.jpg`, browser(kids)), 'an album not granted');
  });

  it('refuses HEAD and Range on images but keeps Range for video', async () => {
    assert.equal((await raw(nginx.url, urls.original, browser(family), 'HEAD')).status, 403);
    assert.equal((await raw(nginx.url, urls.original, { ...browser(family), range: 'bytes=0-99' })).status, 403);
    const slice = await raw(nginx.url, urls.thumb, { ...browser(family), 'request-range': 'bytes=0-99' });
    assert.deepEqual([slice.status, slice.body.toString(), slice.headers['x-robots-tag']], [403, 'Forbidden\n', ROBOTS_TAG]);
    const video = await raw(nginx.url, `/${token}/video/Summer%202024/clip.mp4`, { ...browser(family), range: 'bytes=0-99' });
    assert.deepEqual([video.status, video.body.length], [206, 100]);
  });

  it('promises Range only where it is honoured: not on derivatives, as keepsake', async () => {
    const thumb = await raw(nginx.url, urls.thumb, browser(family));
    assert.deepEqual([thumb.status, thumb.headers['accept-ranges']], [200, undefined]);
    const video = await raw(nginx.url, `/${token}/video/Summer%202024/clip.mp4`, browser(family));
    assert.deepEqual([video.status, video.headers['accept-ranges']], [200, 'bytes']);
  });

  it('refuses blocked user agents and other sites, as keepsake\'s guard would', async () => {
    const cookie = cookieHeader(family);
    const refused: Record<string, string>[] = [
      { 'user-agent': 'curl/8.5.0', 'sec-fetch-site': 'same-origin', cookie },
      { 'user-agent': 'Mozilla/5.0 (compatible; Kangaroo Bot/1.0)', 'sec-fetch-site': 'same-origin', cookie },
      { 'sec-fetch-site': 'same-origin', cookie },
      { ...browser(family), 'sec-fetch-site': 'cross-site' },
      { ...browser(family), 'sec-fetch-site': 'made-up' },
      { 'user-agent': BROWSER_HEADERS['user-agent']!, referer: 'https://forum.example/thread', cookie },
      { 'user-agent': BROWSER_HEADERS['user-agent']!, referer: `${nginx.url.slice(0, -1)}.evil.example/`, cookie },
      { 'user-agent': BROWSER_HEADERS['user-agent']!, cookie },
    ];
    for (const headers of refused) assert.equal((await raw(nginx.url, urls.thumb, headers)).status, 403, JSON.stringify(headers));
    const ownPage = { 'user-agent': BROWSER_HEADERS['user-agent']!, referer: `${nginx.url}albums/Summer%202024`, cookie };
    assert.equal((await raw(nginx.url, urls.thumb, ownPage)).status, 200, 'an older browser on our own page');
    assert.equal((await raw(nginx.url, urls.thumb, { ...browser(family), 'sec-fetch-site': 'none' })).status, 200, 'a typed URL');
  });

  it('binds the link cookie to the browser: another User-Agent is not served from disk, keepsake decides and writes a fresh cookie', async () => {
    const browserAgain = new Client(nginx.url);
    await browserAgain.login(FAMILY, { remember: 'on' });
    const own = await firstImage(browserAgain, 'Summer 2024');
    const fromDisk = await raw(nginx.url, own.original, browser(browserAgain));
    // nginx's ETag is strong, keepsake's weak: who sent an answer shows in it.
    assert.deepEqual([fromDisk.status, String(fromDisk.headers['etag']).startsWith('W/')], [200, false], 'the browser that logged in: from disk');
    // The same browser after an update mid-session: its cookie no longer proves its User-Agent.
    const updated = BROWSER_HEADERS['user-agent']!.replace(/Chrome\/\d+/, 'Chrome/999');
    const handed = await raw(nginx.url, own.original, { ...browser(browserAgain), 'user-agent': updated });
    assert.deepEqual([handed.status, String(handed.headers['etag']).startsWith('W/')], [200, true], 'served by keepsake, which checked the session');
    const fresh = ([handed.headers['set-cookie'] ?? []].flat()).find((line) => line.startsWith('keepsake_link='));
    assert.ok(fresh !== undefined && fresh.toLowerCase().includes(`path=/${(await browserAgain.me()).token.toLowerCase()}/`), `with a fresh link cookie for its token: ${fresh}`);
    const cookie = `${cookieHeader(browserAgain).replace(/keepsake_link=[^;]*/, '')}; ${fresh.split(';')[0]}`;
    const again = await raw(nginx.url, own.original, { ...browser(browserAgain), 'user-agent': updated, cookie });
    assert.deepEqual([again.status, String(again.headers['etag']).startsWith('W/')], [200, false], 'and from disk again with it');
    // The cookies copied into a scripting client, and the link cookie alone in another browser.
    assert.equal((await raw(nginx.url, own.original, { ...browser(browserAgain), 'user-agent': 'python-requests/2.32' })).status, 403);
    const linkOnly = `keepsake_link=${browserAgain.cookies.get('keepsake_link')}`;
    const stranger = await raw(nginx.url, own.original, { ...BROWSER_HEADERS, 'user-agent': updated, cookie: linkOnly });
    assert.deepEqual([stranger.status, stranger.body.toString()], [404, NOT_FOUND], 'the link cookie alone proves nothing in another browser');
  });

  it('puts robots.txt and the headers on everything, once', async () => {
    const robots = await raw(nginx.url, '/robots.txt', BROWSER_HEADERS);
    assert.deepEqual([robots.status, robots.body.toString()], [200, 'User-agent: *\nDisallow: /\n']);
    for (const target of ['/robots.txt', '/', '/api/me', `/${token}/original/nothing-here`, '/_keepsake/media/Summer%202024/beach.jpg']) {
      const answer = await raw(nginx.url, target, browser(family));
      assert.equal(answer.headers['x-robots-tag'], ROBOTS_TAG, target);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', target);
      assert.match(String(answer.headers['content-security-policy']), /^default-src 'self'.*frame-ancestors 'none'$/, target);
    }
    const internal = await raw(nginx.url, '/_keepsake/media/Summer%202024/beach.jpg', browser(family));
    assert.deepEqual([internal.status, internal.body.toString()], [404, NOT_FOUND]);
  });

  it('refuses as keepsake does: the same body, as text, never with a photo\'s type or a year of caching', async () => {
    // nginx's own refusals once took the URL's type (image/webp) and the media location's
    // `immutable` Cache-Control: a browser could keep a 404 for a year.
    const unknown = 'AbcdefghijkLMn';
    const cases: Array<[string, string, Record<string, string>]> = [
      ['an unknown token, derivative', urls.thumb.replace(`/${token}/`, `/${unknown}/`), BROWSER_HEADERS],
      ['an unknown token, original', urls.original.replace(`/${token}/`, `/${unknown}/`), BROWSER_HEADERS],
      ['a hidden file', `/${token}/original/Summer%202024/.secret.jpg`, browser(family)],
      ['a Range on an image', urls.thumb, { ...browser(family), range: 'bytes=0-1' }],
    ];
    for (const [what, target, headers] of cases) {
      const [fromNginx, fromKeepsake] = await Promise.all([raw(nginx.url, target, headers), raw(server.url, target, headers)]);
      assert.deepEqual([fromNginx.status, fromNginx.body.toString()], [fromKeepsake.status, fromKeepsake.body.toString()], what);
      assert.equal(fromNginx.headers['content-type'], fromKeepsake.headers['content-type'], `${what}: Content-Type`);
      assert.equal(fromNginx.headers['cache-control'], fromKeepsake.headers['cache-control'], `${what}: Cache-Control`);
      assert.equal(fromNginx.headers['x-robots-tag'], ROBOTS_TAG, what);
    }
  });

  it('keeps a logged-out or expired token dead, even for a browser that kept its cookies', async () => {
    const leaving = new Client(nginx.url);
    await leaving.login(FAMILY, { remember: 'on' });
    const url = `/${(await leaving.me()).token}/original/Summer%202024/beach.jpg`;
    const kept = browser(leaving);
    assert.equal((await raw(nginx.url, url, kept)).status, 200);
    assert.equal((await leaving.request('/logout', { method: 'POST' })).status, 303);
    assert.equal((await raw(nginx.url, url, kept)).body.toString(), NOT_FOUND);

    const brief = new Client(nginx.url);
    await brief.login(FAMILY); // without "remember": KEEPSAKE_SESSION_TTL, 2 s
    const briefToken = (await brief.me()).token;
    const briefUrl = `/${briefToken}/original/Summer%202024/beach.jpg`;
    assert.equal((await raw(nginx.url, briefUrl, browser(brief))).status, 200);
    let answer = await raw(nginx.url, briefUrl, browser(brief));
    for (let waited = 0; answer.status !== 404 && waited < 8000; waited += 250) answer = await delay(250).then(() => raw(nginx.url, briefUrl, browser(brief)));
    assert.deepEqual([answer.status, answer.body.toString()], [404, NOT_FOUND], 'dead within the session TTL plus one sweep');
    await assert.rejects(lstat(path.join(server.webRoot, briefToken)), { code: 'ENOENT' });
  });

  it('passes `keepsake doctor --url` from the outside', async () => {
    const result = await runKeepsake(['doctor', '--url', nginx.url, '--password', FAMILY], server.env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /after logout the token is dead/);
  });

  it('with KEEPSAKE_ACCEL=nginx, keepsake checks and nginx sends the bytes', async () => {
    const accelServer = await startTestServer({ mediaRoot: server.mediaRoot, keys: [{ label: 'everyone', password: FAMILY }], env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1', KEEPSAKE_ACCEL: 'nginx' } });
    const accel = await nginxFor(accelServer, { accel: true });
    try {
      const client = new Client(accel.url);
      await client.login(FAMILY);
      const image = await firstImage(client, 'Summer 2024');
      const original = await client.get(image.original);
      // nginx keeps the upstream's Content-Type on X-Accel-Redirect, so keepsake must send the file's.
      assert.deepEqual([original.status, original.headers.get('x-robots-tag'), original.headers.get('content-type')], [200, ROBOTS_TAG, 'image/jpeg']);
      assert.deepEqual(Buffer.from(await original.arrayBuffer()), await readFile(path.join(server.mediaRoot, 'Summer 2024', image.name)));
      const thumb = await client.get(image.thumb);
      assert.deepEqual([thumb.status, thumb.headers.get('content-type')], [200, 'image/webp']);
      assert.ok((await thumb.arrayBuffer()).byteLength > 0, 'nginx sent the bytes keepsake pointed at');
      for (const target of [image.original, '/_keepsake/cache/']) assert.equal((await raw(accel.url, target, BROWSER_HEADERS)).status, 404, `${target} without a session`);
    } finally {
      await accel.stop();
      await accelServer.close();
    }
  });

  it('serves a cached derivative with keepsake stopped: nginx sends it from disk', async () => {
    await server.close();
    const hit = await raw(nginx.url, urls.thumb, browser(family));
    assert.deepEqual([hit.status, hit.headers['content-type']], [200, 'image/webp']);
    // keepsake down: a page, and a derivative nginx would hand it, say so as keepsake's own 503 does.
    for (const target of ['/', urls.large]) {
      const down = await raw(nginx.url, target, target === '/' ? BROWSER_HEADERS : browser(family));
      assert.deepEqual(
        [down.status, down.headers['x-robots-tag'], down.headers['content-type'], down.headers['retry-after'], down.body.toString()],
        [502, ROBOTS_TAG, TEXT_TYPE, String(UNAVAILABLE_RETRY_AFTER_S), REFUSAL_BODIES[502]],
        target,
      );
      assert.equal(down.headers['cache-control'], undefined, `${target}: nothing keeps the refusal`);
    }
  });
});
