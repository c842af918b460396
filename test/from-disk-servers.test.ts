import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { BROWSER_HEADERS, Client, cookieHeader } from './helpers/client.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { eventually } from './helpers/robustness-process.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { resolveGuardConfig } from '../src/guard/index.js';
import { REFUSAL_BODIES, TEXT_TYPE, UNAVAILABLE_RETRY_AFTER_S } from '../src/media-contract.js';
import { LINK_SCRIPT_NAME, renderApacheConfig, renderLighttpdConfig, writeLinkScript } from '../src/static-server/index.js';
import { APACHE_MISSING, apacheFor, LIGHTTPD_MISSING, lighttpdFor, raw, type Answer, type RunningWebServer } from './helpers/web-servers.js';

/*
 * lighttpd (mod_magnet) and Apache (mod_lua) in front of keepsake, with the generated
 * configuration and script: real servers on loopback, real cookies, real links on disk. Who sent
 * an answer shows in keepsake's log: a request that reached keepsake is logged there.
 */

const FAMILY = 'from disk family password';
const NOT_FOUND = 'Not Found\n';
const FORBIDDEN = 'Forbidden\n';

const FRONTS = [
  { name: 'lighttpd', missing: LIGHTTPD_MISSING, start: lighttpdFor, server: 'lighttpd' },
  { name: 'Apache', missing: APACHE_MISSING, start: apacheFor, server: 'apache' },
] as const;

for (const front of FRONTS) describe(`${front.name} sends derivatives from disk, and only those the link cookie proves`, { skip: process.env['CI'] ? false : front.missing }, () => {
  let server: TestServer;
  let web: RunningWebServer;
  /** Sends the request and says who answered: keepsake logs every request it is sent. */
  async function ask(target: string, headers: Record<string, string>, method = 'GET'): Promise<Answer & { by: 'disk' | 'keepsake' }> {
    const logged = () => server.logLines.filter((line) => line['msg'] === 'request').length;
    const before = logged();
    const answer = await raw(web.url, target, headers, method);
    // keepsake writes its line as it answers; give it a moment to arrive.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { ...answer, by: logged() > before ? 'keepsake' : 'disk' };
  }
  const fromDisk = (answer: Answer & { by: string }) => answer.status === 200 && answer.by === 'disk';
  const fromKeepsake = (answer: Answer & { by: string }) => answer.status === 200 && answer.by === 'keepsake';
  let family: Client;
  let urls: Record<string, string>;
  const browser = (client: Client, extra: Record<string, string> = {}) => ({ ...BROWSER_HEADERS, cookie: cookieHeader(client), ...extra });

  before(async () => {
    if (front.missing !== undefined) throw new Error(front.missing);
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    server = await startTestServer({ mediaRoot, keys: [{ label: 'everyone', password: FAMILY }], env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1' } });
    await server.ready;
    web = await front.start(server);
    family = new Client(web.url);
    assert.equal((await family.login(FAMILY)).status, 303);
    const page = (await (await family.get('/api/albums/Summer%202024')).json()) as { items: { type: string; urls: Record<string, string> }[] };
    urls = page.items.find((item) => item.type === 'image')!.urls;
    // The thumbnail is made in the background after the scan, and may not be there yet on a busy
    // machine: one request makes it (keepsake answers a miss after writing it), so the tests below
    // start from a thumbnail on disk.
    assert.equal((await raw(web.url, urls['thumb']!, browser(family))).status, 200);
  });
  after(async () => Promise.all([web?.stop(), server?.close()]));

  it('sends a derivative it finds from disk, with the cache policy and the headers; one not made yet comes from keepsake, then from disk', async () => {
    const large = urls['large']!;
    const first = await ask(large, browser(family));
    assert.ok(fromKeepsake(first), `a miss is keepsake's: ${first.status} ${String(first.headers['etag'])}`);
    const second = await ask(large, browser(family));
    assert.ok(fromDisk(second), `then from disk: ${second.status} ${String(second.headers['etag'])}`);
    assert.ok(second.body.equals(first.body), 'the same bytes');
    assert.equal(second.headers['content-type'], 'image/webp');
    assert.equal(second.headers['cache-control'], 'private, max-age=31536000, immutable');
    assert.equal(second.headers['x-robots-tag'], 'noindex, nofollow, noimageindex');
    assert.equal(second.headers['x-content-type-options'], 'nosniff');
    assert.equal(second.headers['accept-ranges'], undefined, 'no Range promised, as keepsake promises none on a photo');
    const again = await ask(large, browser(family, { 'if-none-match': String(second.headers['etag']) }));
    assert.equal(again.status, 304, 'conditional requests answered by the server');
  });

  it('never sends an original or a video from disk: keepsake checks those on the open file', async () => {
    const original = await ask(urls['original']!, browser(family));
    assert.ok(fromKeepsake(original), `${original.status} ${String(original.headers['etag'])}`);
  });

  it('refuses its internal prefix from outside, however it is spelled, with or without lighttpd normalising URLs', { skip: front.server !== 'lighttpd' ? 'lighttpd only: Apache has no internal prefix' : false }, async () => {
    const raw_ = await lighttpdFor(server, { normalize: false });
    try {
      for (const base of [web.url, raw_.url]) {
        for (const prefix of ['/_keepsake_disk', '/%5Fkeepsake_disk', '/_keepsake%5Fdisk']) {
          // No cookie at all: nothing may come from disk by this way.
          const answer = await raw(base, `${prefix}${urls['thumb']!}`, BROWSER_HEADERS);
          assert.deepEqual([answer.status, answer.body.toString()], [404, NOT_FOUND], `${base} ${prefix}`);
        }
      }
    } finally {
      await raw_.stop();
    }
  });

  it('binds the cookie to the browser: another User-Agent goes to keepsake, which writes a fresh cookie', async () => {
    const thumb = urls['thumb']!;
    const logged = await ask(thumb, browser(family));
    assert.ok(fromDisk(logged), `the browser that logged in: ${logged.status} by ${logged.by}`);
    const updated = BROWSER_HEADERS['user-agent']!.replace(/Chrome\/\d+/, 'Chrome/999');
    const handed = await ask(thumb, browser(family, { 'user-agent': updated }));
    assert.ok(fromKeepsake(handed), `an updated browser: ${handed.status} ${String(handed.headers['etag'])}`);
    const fresh = [handed.headers['set-cookie'] ?? []].flat().find((line) => line.startsWith('keepsake_link='));
    assert.ok(fresh !== undefined, 'with a fresh link cookie');
    const cookie = `${cookieHeader(family).replace(/keepsake_link=[^;]*/, '')}; ${fresh.split(';')[0]}`;
    assert.ok(fromDisk(await ask(thumb, { ...BROWSER_HEADERS, 'user-agent': updated, cookie })), 'and from disk again with it');
    assert.deepEqual((await ask(thumb, browser(family, { 'user-agent': 'python-requests/2.32' }))).status, 403, 'a scripting client with the cookies');
    const stranger = await ask(thumb, { ...BROWSER_HEADERS, 'user-agent': updated, cookie: `keepsake_link=${family.cookies.get('keepsake_link')}` });
    assert.deepEqual([stranger.status, stranger.body.toString()], [404, NOT_FOUND], 'the link cookie alone proves nothing in another browser');
  });

  it('sends nothing from disk for a forged cookie or another session\'s token', async () => {
    const thumb = urls['thumb']!;
    const forged = await ask(thumb, { ...BROWSER_HEADERS, cookie: 'keepsake_link=AAAAAAAAAAAAAAAAAAAAAA' });
    assert.deepEqual([forged.status, forged.body.toString()], [404, NOT_FOUND]);
    const other = new Client(web.url);
    assert.equal((await other.login(FAMILY)).status, 303);
    const borrowed = await ask(thumb, browser(other));
    assert.deepEqual([borrowed.status, borrowed.body.toString()], [404, NOT_FOUND], "a session's cookies on another session's token");
  });

  it('refuses as keepsake does: the same body, as text, never with a photo\'s type or a year of caching', async () => {
    const thumb = urls['thumb']!;
    const token = thumb.split('/')[1]!;
    const cases: Array<[string, string, Record<string, string>]> = [
      ['an unknown token', thumb.replace(`/${token}/`, '/AbcdefghijkLMn/'), BROWSER_HEADERS],
      ['a forged cookie', thumb, { ...BROWSER_HEADERS, cookie: 'keepsake_link=AAAAAAAAAAAAAAAAAAAAAA' }],
      ['a Range on an image', thumb, browser(family, { range: 'bytes=0-1' })],
    ];
    for (const [what, target, headers] of cases) {
      const [fromFront, fromKeepsake] = await Promise.all([raw(web.url, target, headers), raw(server.url, target, headers)]);
      assert.deepEqual([fromFront.status, fromFront.body.toString()], [fromKeepsake.status, fromKeepsake.body.toString()], what);
      assert.equal(fromFront.headers['content-type'], fromKeepsake.headers['content-type'], `${what}: Content-Type`);
      assert.equal(fromFront.headers['cache-control'], fromKeepsake.headers['cache-control'], `${what}: Cache-Control`);
    }
  });

  it('refuses HEAD and Range on a derivative, as keepsake does', async () => {
    const thumb = urls['thumb']!;
    const head = await ask(thumb, browser(family), 'HEAD');
    assert.equal(head.status, 403);
    const range = await ask(thumb, browser(family, { range: 'bytes=0-9' }));
    assert.deepEqual([range.status, range.body.toString()], [403, FORBIDDEN]);
  });

  it('refuses a blocked address even a proven cookie, before anything is sent from disk', async () => {
    const resolved = resolveGuardConfig({ addresses: { block: ['127.0.0.0/8'] } });
    assert.ok(resolved.ok);
    const guarded = await front.start(server, { guard: resolved.config });
    try {
      // keepsake itself blocks no one here: only the server's own rule can refuse. The family's
      // cookies prove its token (it logged in through the other server, in front of the same keepsake).
      assert.ok(fromDisk(await ask(urls['thumb']!, browser(family))), 'served from disk where the address is not blocked');
      const answer = await raw(guarded.url, urls['thumb']!, browser(family));
      assert.deepEqual([answer.status, answer.body.toString()], [403, FORBIDDEN]);
    } finally {
      await guarded.stop();
    }
  });

  it('keeps whole tokens and share links out of its access log', async () => {
    const { token } = await family.me();
    await ask(urls['thumb']!, browser(family));
    await ask(urls['original']!, browser(family));
    await ask(`/s/${'x'.repeat(40)}.${'y'.repeat(43)}`, browser(family));
    // The server writes its log on its own time (Apache's is buffered): wait for the lines, not a fixed moment.
    let log = '';
    await eventually(async () => {
      log = await readFile(`${web.dir}/access.log`, 'utf8');
      return log.trim().split('\n').length >= 3;
    }, 5_000);
    assert.ok(log.trim().split('\n').length >= 3, `the requests are logged:\n${log}`);
    assert.ok(!log.includes(token), 'no whole token');
    assert.ok(!log.includes('y'.repeat(10)), 'no share link signature');
  });

  it('writes its script where the configuration says, holding the link secret, readable by owner and group only', async () => {
    const dir = await tempDir('keepsake-script-');
    const linkSecret = 'a-link-secret-for-this-test-only';
    const file = await writeLinkScript(front.server, { webRoot: dir, mediaRoot: dir, cacheDir: dir, linkSecret, upstream: '127.0.0.1:8080', linkScript: `${dir}/${front.server}/${LINK_SCRIPT_NAME}` });
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    assert.ok((await readFile(file, 'utf8')).includes(`"${linkSecret}"`));
    const render = front.server === 'lighttpd' ? renderLighttpdConfig : renderApacheConfig;
    const site = render({ webRoot: dir, mediaRoot: dir, cacheDir: dir, refusalsDir: dir, linkSecret, upstream: '127.0.0.1:8080', linkScript: file });
    assert.ok(site.includes(`"${file}"`), 'the configuration names the script');
    assert.ok(!site.includes(linkSecret), 'the secret is in the script only');
    assert.throws(() => render({ webRoot: dir, mediaRoot: dir, cacheDir: dir, refusalsDir: dir, linkSecret, upstream: '127.0.0.1:8080' }), /linkScript/);
  });

  // Last: it stops keepsake.
  it('with keepsake stopped, sends a cached derivative from disk and says "try again" for the rest, with Retry-After', async () => {
    await server.close();
    const hit = await raw(web.url, urls['thumb']!, browser(family));
    assert.deepEqual([hit.status, hit.headers['content-type']], [200, 'image/webp']);
    for (const [target, headers] of [['/', BROWSER_HEADERS], [urls['medium']!, browser(family)]] as const) {
      const down = await raw(web.url, target, headers);
      // Both say 503 of their own. Apache's answer reads as keepsake's "not answering" with its
      // Retry-After; lighttpd's is the contract's 503 body, and it cannot add a header to its own
      // error answers short of a Lua hook on every response (README, "Static servers").
      const [body, retryAfter] = front.server === 'apache' ? [REFUSAL_BODIES[502], String(UNAVAILABLE_RETRY_AFTER_S)] : [REFUSAL_BODIES[503], undefined];
      assert.deepEqual(
        [down.status, down.headers['content-type'], down.headers['retry-after'], down.headers['x-robots-tag'], down.body.toString()],
        [503, TEXT_TYPE, retryAfter, 'noindex, nofollow, noimageindex', body],
        target,
      );
    }
  });
});
