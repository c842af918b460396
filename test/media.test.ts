import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NOT_FOUND_BODY } from '../src/media-contract.js';
import { BROWSER_HEADERS, Client, cookieHeader, rawGet } from './helpers/client.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const EVERYTHING = 'everything please';
const KIDS_ONLY = 'kids only please';
const NO_ORIGINALS = 'look but no download';

async function expectUniform404(response: Response, label: string): Promise<void> {
  assert.equal(response.status, 404, label);
  assert.equal(await response.text(), NOT_FOUND_BODY, label);
  assert.equal(response.headers.get('x-robots-tag'), 'noindex, nofollow, noimageindex', label);
}

describe('serving originals only through the session token', () => {
  let server: TestServer;
  let everything: Client;
  let kids: Client;
  let viewer: Client;
  let token: string;

  before(async () => {
    server = await startTestServer({
      keys: [
        { label: 'everything', password: EVERYTHING },
        { label: 'kids', password: KIDS_ONLY, albums: ['Kids/*'] },
        { label: 'viewer', password: NO_ORIGINALS, canDownloadOriginals: false },
      ],
    });
    everything = new Client(server.url);
    kids = new Client(server.url);
    viewer = new Client(server.url);
    await everything.login(EVERYTHING);
    await kids.login(KIDS_ONLY);
    await viewer.login(NO_ORIGINALS);
    token = (await everything.me()).token;
  });
  after(() => server.close());

  it('serves a granted original with private caching, validators and the privacy headers', async () => {
    const response = await everything.get(`/${token}/original/Summer%202024/beach.jpg`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
    assert.match(response.headers.get('cache-control') ?? '', /^private/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('x-robots-tag'), 'noindex, nofollow, noimageindex');
    const body = Buffer.from(await response.arrayBuffer());
    assert.deepEqual(body, await readFile(path.join(server.mediaRoot, 'Summer 2024', 'beach.jpg')));
    const etag = response.headers.get('etag');
    assert.ok(etag);
    assert.ok(response.headers.get('last-modified'));
    const again = await rawGet(`${server.url}${token}/original/Summer%202024/beach.jpg`, { cookie: cookieHeader(everything), 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  it('serves nested albums and names with spaces', async () => {
    assert.equal((await everything.get(`/${token}/original/Summer%202024/Day%20Two/pier.jpg`)).status, 200);
    assert.equal((await everything.get(`/${token}/original/Summer%202024/sunset%20glow.jpg`)).status, 200);
  });

  it('gives the same 404 for every kind of "no"', async () => {
    const anonymous = new Client(server.url);
    const kidsToken = (await kids.me()).token;
    const cases: [Client, string, string][] = [
      [anonymous, `/${token}/original/Summer%202024/beach.jpg`, 'no session'],
      [kids, `/${token}/original/Summer%202024/beach.jpg`, "another session's token"],
      [everything, `/${kidsToken}/original/Kids/Alice/alice-1.jpg`, "another session's token, the other way"],
      [everything, '/AbCdEfGhIjKl/original/Summer%202024/beach.jpg', 'unknown token'],
      [everything, `/${token}/original/Summer%202024/missing.jpg`, 'missing file'],
      [everything, `/${token}/original/Summer%202024/.dotfile.jpg`, 'dot-file'],
      [everything, `/${token}/original/Summer%202024/notes.txt`, 'not media'],
      [everything, `/${token}/original/.hidden/secret.jpg`, 'hidden album'],
      [everything, `/${token}/original/Summer%202024`, 'a folder'],
      [everything, `/${token}/original/Summer%202024/etc/passwd`, 'planted symlink to /etc'],
      [everything, `/${token}/original/Summer%202024/passwd.jpg`, 'planted symlink to a file outside'],
      [everything, `/${token}/original/..%2F..%2Fkeepsake.db`, 'encoded traversal'],
      [everything, `/${token}/original/%2e%2e/%2e%2e/keepsake.db`, 'encoded dots'],
      [everything, `/${token}/original/%252e%252e/%252e%252e/keepsake.db`, 'double encoding'],
      [everything, `/${token}/original/Summer%202024%5C..%5C..%5Ckeepsake.db`, 'backslashes'],
      [everything, `/${token}/original/Summer%202024/beach.jpg%00.png`, 'NUL byte'],
      [everything, `/${token}/original//etc/passwd`, 'absolute path'],
      [kids, `/${kidsToken}/original/Summer%202024/beach.jpg`, 'album not granted'],
      [kids, `/${kidsToken}/original/Kids/loose-in-kids.jpg`, 'Kids/* does not grant Kids itself'],
      [viewer, `/${(await viewer.me()).token}/original/Summer%202024/beach.jpg`, 'key without originals'],
      [everything, `/${token}/secret/Summer%202024/beach.jpg`, 'unknown variant'],
      [everything, `/${token}/video/Summer%202024/beach.jpg`, 'an image through the video variant'],
    ];
    for (const [client, url, label] of cases) await expectUniform404(await client.get(url), label);
    const raw = await fetch(`${server.url}${token}/original/Summer 2024/../../keepsake.db`.replace(/ /g, '%20'), {
      headers: { ...BROWSER_HEADERS, cookie: cookieHeader(everything) },
    });
    assert.equal(raw.status, 404, 'literal ../ (normalised by the client) still 404');
  });

  it('grants through Kids/* only the albums inside Kids', async () => {
    const kidsToken = (await kids.me()).token;
    assert.equal((await kids.get(`/${kidsToken}/original/Kids/Alice/alice-1.jpg`)).status, 200);
    assert.equal((await kids.get(`/${kidsToken}/original/Kids/Bob/bob-1.jpg`)).status, 200);
    assert.equal((await everything.get(`/${token}/original/Kids/loose-in-kids.jpg`)).status, 200, 'while * does grant Kids itself');
  });

  it('answers 404 for unknown routes with the same body', async () => {
    await expectUniform404(await everything.get('/no/such/page'), 'unknown route');
    await expectUniform404(await everything.get(`/${token}`), 'bare token');
    await expectUniform404(await everything.get(`/${token}/`), 'token folder');
  });

  it('serves robots.txt and healthz', async () => {
    const robots = await everything.get('/robots.txt');
    assert.equal(await robots.text(), 'User-agent: *\nDisallow: /\n');
    const health = await everything.get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true });
    assert.equal(await readFile(path.join(server.webRoot, 'robots.txt'), 'utf8'), 'User-agent: *\nDisallow: /\n');
  });

  it('puts X-Robots-Tag and nosniff on every response', async () => {
    for (const url of ['/', '/api/me', '/robots.txt', '/healthz', '/nothing']) {
      const response = await everything.get(url);
      assert.equal(response.headers.get('x-robots-tag'), 'noindex, nofollow, noimageindex', url);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', url);
    }
  });
});
