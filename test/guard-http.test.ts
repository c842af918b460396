import assert from 'node:assert/strict';
import { lstat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { signShareLink } from '../src/guard/index.js';
import { loadOrCreateSecret } from '../src/store/index.js';
import { runKeepsake } from './helpers/cli.js';
import { Client, cookieHeader, rawGet } from './helpers/client.js';
import { makeJpeg, makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'the family password';

interface ApiItem {
  name: string;
  urls: Record<string, string>;
}

async function items(client: Client, album: string): Promise<ApiItem[]> {
  const response = await client.get(`/api/albums/${album.split('/').map(encodeURIComponent).join('/')}`);
  return response.status === 200 ? ((await response.json()) as { items: ApiItem[] }).items : [];
}

/** A state dir holding a keepsake.config.json (the test server's working directory). */
async function stateWithConfig(config: unknown): Promise<string> {
  const stateDir = await tempDir('keepsake-state-');
  await writeFile(path.join(stateDir, 'keepsake.config.json'), JSON.stringify(config));
  return stateDir;
}

describe('the guard over HTTP', () => {
  let server: TestServer;
  let family: Client;
  let original: string;
  let thumb: string;
  let video: string;

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    await writeFile(path.join(mediaRoot, 'Summer 2024', 'clip.mp4'), Buffer.alloc(64 * 1024, 7));
    server = await startTestServer({ mediaRoot, keys: [{ label: 'guarded', password: PASSWORD }] });
    family = new Client(server.url);
    await family.login(PASSWORD);
    const summer = await items(family, 'Summer 2024');
    original = summer.find((item) => item.name === 'beach.jpg')!.urls['original']!;
    thumb = summer.find((item) => item.name === 'beach.jpg')!.urls['thumb']!;
    video = summer.find((item) => item.name === 'clip.mp4')!.urls['video']!;
  });
  after(() => server.close());

  it('refuses hotlinks: foreign Referer, cross-site fetches, and no browser signal at all', async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ 'sec-fetch-site': 'same-origin' }, 200, 'our own page'],
      [{ 'sec-fetch-site': 'none' }, 200, 'a typed URL'],
      [{ 'sec-fetch-site': 'cross-site' }, 403, 'another site'],
      [{ 'sec-fetch-site': 'same-site' }, 403, 'a sibling site'],
      [{ 'sec-fetch-site': '', referer: 'https://forum.example/thread' }, 403, 'foreign Referer'],
      [{ 'sec-fetch-site': '', referer: server.url }, 200, 'own Referer'],
      [{ 'sec-fetch-site': '' }, 403, 'no Sec-Fetch-Site and no Referer'],
    ];
    for (const [headers, status, label] of cases) {
      const response = await rawGet(`${server.url}${thumb.slice(1)}`, { cookie: cookieHeader(family), ...headers });
      assert.equal(response.status, status, label);
    }
  });

  it('refuses HEAD and Range on images, and keeps Range for videos', async () => {
    const head = await family.request(original, { method: 'HEAD' });
    assert.equal(head.status, 403);
    assert.equal((await family.get(original, { range: 'bytes=0-99' })).status, 403);
    assert.equal((await family.get(original, { 'request-range': 'bytes=0-99' })).status, 403);
    const partial = await family.get(video, { range: 'bytes=0-99' });
    assert.equal(partial.status, 206);
    assert.equal((await partial.arrayBuffer()).byteLength, 100);
  });

  it('promises Range only where it is honoured: on videos, not on images', async () => {
    const photo = await family.get(original);
    assert.equal(photo.status, 200);
    await photo.arrayBuffer();
    assert.equal(photo.headers.get('accept-ranges'), null, 'an image original says nothing of ranges');
    const small = await family.get(thumb);
    await small.arrayBuffer();
    assert.equal(small.headers.get('accept-ranges'), null, 'nor does a derivative');
    const clip = await family.get(video);
    await clip.arrayBuffer();
    assert.equal(clip.headers.get('accept-ranges'), 'bytes');
  });

  it('refuses scripting clients and AI crawlers on pages and media, and says why in one log line', async () => {
    for (const agent of ['curl/8.5.0', 'python-requests/2.32', 'Wget/1.21', 'Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)', 'ClaudeBot/1.0', 'Scrapy/2.11', '']) {
      assert.equal((await family.get('/', { 'user-agent': agent })).status, 403, agent);
      assert.equal((await family.get(thumb, { 'user-agent': agent })).status, 403, agent);
    }
    const line = server.logLines.find((entry) => entry['msg'] === 'refused' && entry['policy'] === 'user-agents');
    assert.ok(line, 'a refusal log line');
    assert.equal(typeof line['reason'], 'string');
    assert.equal(line['address'], '127.0.0.1');
    assert.doesNotMatch(JSON.stringify(server.logLines), new RegExp((await family.me()).token), 'never the full token');
  });

  it('the honeypot link in a page ends the session that follows it, and removes its link', async () => {
    const scraper = new Client(server.url);
    await scraper.login(PASSWORD);
    const { token } = await scraper.me();
    const page = await (await scraper.get('/albums/Summer%202024')).text();
    const trap = /<a href="([^"]+)" class="trap" aria-hidden="true" tabindex="-1" rel="nofollow">/.exec(page)?.[1];
    assert.ok(trap !== undefined && trap.startsWith(`/${token}/`), 'the trap lives under the session token');
    assert.equal((await scraper.get(trap.replace(/&amp;/g, '&'))).status, 404);
    await assert.rejects(lstat(path.join(server.webRoot, token)), { code: 'ENOENT' });
    assert.equal((await scraper.get('/api/me')).status, 401);
  });

  it('throttles password guessing with 429 and Retry-After; the right password waits too', async () => {
    const guesser = new Client(server.url);
    const headers = { 'x-forwarded-for': '198.51.100.9' }; // ignored: no proxy is trusted here
    let throttled: Response | undefined;
    for (let attempt = 0; attempt < 12 && throttled === undefined; attempt += 1) {
      const response = await guesser.request('/login', { method: 'POST', form: { password: `guess ${attempt}` }, headers });
      if (response.status === 429) throttled = response;
      else assert.equal(response.status, 401);
    }
    assert.ok(throttled, 'reached 429');
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
    assert.match(await throttled.text(), /Too many tries\. Wait \d+ seconds? and try again\./);
    const right = await guesser.login(PASSWORD);
    assert.equal(right.status, 429, 'a correct password from a throttled address still waits');
    await sleep(Number(right.headers.get('retry-after')) * 1000 + 100);
    assert.equal((await guesser.login(PASSWORD)).status, 303);
  });

  it('stats counts refusals by policy', async () => {
    const stats = await runKeepsake(['stats'], server.env);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^user-agents\s+\d+$/m);
    assert.match(stats.stdout, /^hotlink\s+\d+$/m);
  });
});

describe('addresses behind a trusted proxy', () => {
  it('blocks a listed CIDR from X-Forwarded-For only when the peer is a trusted proxy', async () => {
    const config = { guard: { addresses: { block: ['203.0.113.0/24', '2001:db8::/32'] } } };
    for (const [trust, expected] of [['127.0.0.1', 403], ['false', 200]] as const) {
      const server = await startTestServer({ stateDir: await stateWithConfig(config), env: { KEEPSAKE_TRUST_PROXY: trust } });
      try {
        const client = new Client(server.url);
        assert.equal((await client.get('/', { 'x-forwarded-for': '203.0.113.7' })).status, expected, `trust ${trust}, IPv4`);
        assert.equal((await client.get('/', { 'x-forwarded-for': '2001:db8::1' })).status, expected, `trust ${trust}, IPv6`);
        assert.equal((await client.get('/', { 'x-forwarded-for': '192.0.2.1' })).status, 200);
      } finally {
        await server.close();
      }
    }
  });
});

describe('media budgets', () => {
  it('a burst over the budget gets 429 with Retry-After, and a session that keeps at it is ended', async () => {
    const config = { guard: { rates: { perSession: { burst: 20, perSecond: 1 }, tripwire: { strikes: 1 } } } };
    const server = await startTestServer({ stateDir: await stateWithConfig(config), keys: [{ label: 'greedy', password: PASSWORD }] });
    try {
      const client = new Client(server.url);
      await client.login(PASSWORD);
      const { token } = await client.me();
      const thumbs = (await items(client, 'Summer 2024')).map((item) => item.urls['thumb']!);
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let round = 0; round < 15; round += 1) {
        for (const url of thumbs) {
          const response = await client.get(url);
          statuses.push(response.status);
          if (response.status === 429) retryAfter ??= response.headers.get('retry-after');
        }
      }
      assert.ok(statuses.slice(0, 20).every((status) => status === 200), 'the burst is served');
      assert.ok(statuses.includes(429), 'then refused');
      assert.ok(Number(retryAfter) >= 1);
      assert.equal((await client.get('/api/me')).status, 401, 'the tripwire ended the session');
      await assert.rejects(lstat(path.join(server.webRoot, token)), { code: 'ENOENT' });
    } finally {
      await server.close();
    }
  });

  it('a family browsing a 300-photo album through the real pages is never refused', async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    for (let index = 0; index < 300; index += 1) {
      await makeJpeg(path.join(mediaRoot, 'Big Day', `photo-${String(index).padStart(3, '0')}.jpg`), { width: 48 + (index % 40), height: 36 });
    }
    const server = await startTestServer({ mediaRoot, keys: [{ label: 'browsing', password: PASSWORD }] });
    try {
      const client = new Client(server.url);
      await client.login(PASSWORD);
      const statuses = new Map<number, number>();
      const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
      count((await client.get('/')).status);
      const page = await (await client.get('/albums/Big%20Day')).text();
      count(200);
      const listed = await items(client, 'Big Day');
      assert.equal(listed.length, 300);
      // The grid: one image per tile (srcset picks one), six at a time like a browser.
      const grid = listed.map((item, index) => item.urls[index % 2 === 0 ? 'thumb' : 'small']!);
      for (let index = 0; index < grid.length; index += 6) {
        for (const response of await Promise.all(grid.slice(index, index + 6).map((url) => client.get(url)))) count(response.status);
      }
      // Then the viewer: sixty photos, each with its neighbours preloaded, as fast as they come.
      for (const [index, item] of listed.slice(0, 60).entries()) {
        const neighbours = [item, listed[index + 1], listed[index + 2]].filter((entry) => entry !== undefined);
        for (const response of await Promise.all(neighbours.map((entry) => client.get(entry.urls['large']!)))) count(response.status);
      }
      assert.deepEqual([...statuses.keys()], [200], `statuses: ${JSON.stringify([...statuses])}`);
      assert.ok(page.includes('Big Day'));
      assert.equal(server.logLines.filter((line) => line['msg'] === 'refused').length, 0);
    } finally {
      await server.close();
    }
  });
});

describe('share links', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function share(args: string[]): Promise<{ link: string; id: string }> {
    const result = await runKeepsake(['share', ...args], server.env);
    assert.equal(result.code, 0, result.stderr);
    const url = /^http:\/\/\S+\/s\/\S+$/m.exec(result.stdout)?.[0];
    const id = /Id: (\S+)$/m.exec(result.stdout)?.[1];
    assert.ok(url && id, result.stdout);
    return { link: new URL(url).pathname, id };
  }

  it('opens only its album, after a button press, in an ordinary session with its own link', async () => {
    const { link } = await share(['Kids/Alice', '--ttl', '1h', '--no-originals']);
    const visitor = new Client(server.url);
    const landing = await visitor.get(link);
    assert.equal(landing.status, 200);
    assert.match(await landing.text(), /<form method="post" action="\/s\/[^"]+"><button type="submit">Open the album<\/button>/);
    assert.equal(visitor.cookies.size, 0, 'looking at the page opens nothing');
    const opened = await visitor.request(link, { method: 'POST' });
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.get('location'), '/albums/Kids/Alice');
    const me = await visitor.me();
    assert.equal(me.canDownloadOriginals, false);
    assert.ok((await lstat(path.join(server.webRoot, me.token))).isSymbolicLink());
    const albums = (await (await visitor.get('/api/albums')).json()) as { albums: { path: string }[] };
    assert.deepEqual(albums.albums.map((album) => album.path), ['Kids/Alice']);
    assert.equal((await visitor.get('/api/albums/Summer%202024')).status, 404);
    const [photo] = await items(visitor, 'Kids/Alice');
    assert.equal((await visitor.get(photo!.urls['small']!)).status, 200);
    assert.equal(photo!.urls['original'], undefined);
  });

  it('a tampered, used-up, revoked or expired link gives a clear page and no session', async () => {
    const tamperedLink = (await share(['Summer 2024', '--ttl', '1h'])).link.replace(/\.(.)/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    const once = (await share(['Summer 2024', '--ttl', '1h', '--uses', '1'])).link;
    const revoked = await share(['Summer 2024', '--ttl', '1h']);
    const secret = server.services.secrets.guardKey;
    await server.services.store.shares.add({ id: 'shortlived', album: 'Summer 2024', canDownloadOriginals: true, expiresAt: Date.now() + 1500, maxUses: null, createdAt: Date.now() });
    const expiring = signShareLink({ id: 'shortlived', album: 'Summer 2024', expiresAt: Date.now() + 1500, canDownloadOriginals: true }, secret);

    const first = new Client(server.url);
    assert.equal((await first.request(once, { method: 'POST' })).status, 303);
    const revoking = new Client(server.url);
    assert.equal((await revoking.request(revoked.link, { method: 'POST' })).status, 303);
    const revokedToken = (await revoking.me()).token;
    assert.equal((await runKeepsake(['share', 'revoke', revoked.id], server.env)).code, 0);
    assert.equal((await revoking.get('/api/me')).status, 401, 'revoking ends the sessions it opened');
    await assert.rejects(lstat(path.join(server.webRoot, revokedToken)), { code: 'ENOENT' });
    const listed = await runKeepsake(['share', 'list'], server.env);
    assert.match(listed.stdout, new RegExp(`^${revoked.id}\\s.*\\srevoked\\s`, 'm'));
    assert.match(listed.stdout, /1\/1\s+used up\s/m);
    await sleep(1600);

    for (const [link, status, text] of [
      [tamperedLink, 404, /not valid/],
      [once, 410, /closed/],
      [revoked.link, 410, /closed/],
      [expiring, 410, /closed/],
      ['/s/garbage', 404, /not valid/],
    ] as const) {
      const visitor = new Client(server.url);
      const shown = await visitor.get(link);
      assert.equal(shown.status, status, link);
      assert.match(await shown.text(), text);
      const posted = await visitor.request(link, { method: 'POST' });
      assert.equal(posted.status, status, link);
      assert.equal(visitor.cookies.has('keepsake.sid'), false, 'no session');
    }
  });
});
