import assert from 'node:assert/strict';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Client, cookieHeader, downloadOnce } from './helpers/client.js';
import { noisyJpeg } from './fixtures/derivatives-images.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { sha256 } from './helpers/robustness-state.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Case 8 of issue 8: the admin replaces a photo (an editor saving over it, a sync tool
 * renaming the new version into place) while visitors are downloading it. Every 200 must be
 * one whole version — its length as declared, pixels that decode — and an ETag must name
 * exactly one content.
 */

const PASSWORD = 'swap it while they look';
const READERS = 8;
const RUN_MS = 4_000;

interface Answer {
  readonly url: string;
  readonly status: number;
  readonly declared: number;
  readonly etag: string | undefined;
  readonly retryAfter: string | undefined;
  readonly body: Buffer;
  readonly complete: boolean;
}

async function fetchOnce(url: string, cookie: string): Promise<Answer> {
  const answer = await downloadOnce(url, cookie);
  return { ...answer, url, etag: answer.headers.etag, retryAfter: answer.headers['retry-after'] };
}

describe('a photo replaced while it is being served', () => {
  let server: TestServer;
  let client: Client;
  let token: string;
  let album: string;
  const versions: Buffer[] = [];

  before(async () => {
    versions.push(await noisyJpeg(1200, 900), await noisyJpeg(800, 600));
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    album = path.join(mediaRoot, 'Swap');
    await mkdir(album);
    await writeFile(path.join(album, 'photo.jpg'), versions[0]!);
    const stateDir = await tempDir('keepsake-state-');
    const configFile = path.join(stateDir, 'robustness.config.json');
    // Eight readers at full speed are far over a family's media budget; the budget is not under test.
    await writeFile(configFile, JSON.stringify({ guard: { rates: { enabled: false } } }));
    server = await startTestServer({ stateDir, mediaRoot, env: { KEEPSAKE_CONFIG: configFile }, keys: [{ label: 'relatives', password: PASSWORD }] });
    client = new Client(server.url);
    assert.equal((await client.login(PASSWORD)).status, 303);
    token = (await client.me()).token;
  });
  after(() => server.close());

  it('every 200 is one whole version, and each ETag names one content', async (t) => {
    const cookie = cookieHeader(client);
    const original = `${server.url}${token}/original/Swap/photo.jpg`;
    const deadline = Date.now() + RUN_MS;
    let swaps = 0;
    const swapper = (async () => {
      // Written under a hidden name (never catalogued, never served), then renamed over the photo.
      const incoming = path.join(album, '.incoming.jpg');
      while (Date.now() < deadline) {
        swaps += 1;
        await writeFile(incoming, versions[swaps % 2]!);
        await rename(incoming, path.join(album, 'photo.jpg'));
        await sleep(5);
      }
    })();
    const readers = Array.from({ length: READERS }, async (_, reader) => {
      const answers: Answer[] = [];
      while (Date.now() < deadline) {
        if (reader === 0) {
          // Derivatives too: the URL the album API gives right now.
          const listing = (await (await client.get('/api/albums/Swap')).json()) as { items: { name: string; urls: Record<string, string> }[] };
          const thumb = listing.items.find((item) => item.name === 'photo.jpg')?.urls['thumb'];
          if (thumb !== undefined) answers.push(await fetchOnce(new URL(thumb, server.url).href, cookie));
        } else answers.push(await fetchOnce(original, cookie));
      }
      return answers;
    });
    const answers = (await Promise.all(readers)).flat();
    await swapper;

    const known = new Map(versions.map((bytes, index) => [sha256(bytes), index]));
    const contentOfEtag = new Map<string, string>();
    const problems: string[] = [];
    let whole = 0;
    for (const answer of answers) {
      if (answer.status === 404 && !answer.url.includes('/original/')) continue; // a thumbnail URL one version old
      if (answer.status !== 200) {
        problems.push(`${answer.status} for ${answer.url}`);
        continue;
      }
      const digest = sha256(answer.body);
      if (!answer.complete || answer.body.length !== answer.declared) {
        problems.push(`short 200: ${answer.body.length} of ${answer.declared} bytes (${answer.complete ? 'ended' : 'cut off'})`);
        continue;
      }
      if (answer.url.includes('/original/') && !known.has(digest)) {
        problems.push(`a 200 of ${answer.body.length} bytes that is neither version`);
        continue;
      }
      const seen = contentOfEtag.get(answer.etag ?? '');
      if (seen !== undefined && seen !== digest) problems.push(`ETag ${answer.etag} named two different contents`);
      contentOfEtag.set(answer.etag ?? '', digest);
      whole += 1;
    }
    const originals = answers.filter((answer) => answer.url.includes('/original/'));
    t.diagnostic(`${swaps} swaps, ${answers.length} answers (${originals.length} originals), ${whole} whole 200s, ${problems.length} problems`);
    assert.ok(swaps > 100 && originals.length > 100, 'the load and the swaps overlapped');
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} bad answers`);
    // Spot-check that the bodies decode, as a browser would.
    for (const answer of answers.filter((item) => item.status === 200).slice(0, 20)) await sharp(answer.body).stats();
  });

  it('overwritten in place (cp over it): never a short 200; at worst a 503 with Retry-After', async (t) => {
    // Truncate-then-write is what `cp new.jpg old.jpg` does: a reader can find the file shorter
    // than it was a moment ago. The bytes may mix versions (README: replace by rename); the length never lies.
    const cookie = cookieHeader(client);
    const original = `${server.url}${token}/original/Swap/photo.jpg`;
    const deadline = Date.now() + RUN_MS / 2;
    let writes = 0;
    const writer = (async () => {
      while (Date.now() < deadline) {
        writes += 1;
        await writeFile(path.join(album, 'photo.jpg'), versions[writes % 2]!);
      }
    })();
    const answers = (
      await Promise.all(
        Array.from({ length: READERS }, async () => {
          const mine: Answer[] = [];
          while (Date.now() < deadline) mine.push(await fetchOnce(original, cookie));
          return mine;
        }),
      )
    ).flat();
    await writer;
    const short = answers.filter((answer) => answer.status === 200 && (!answer.complete || answer.body.length !== answer.declared));
    const other = answers.filter((answer) => answer.status !== 200 && answer.status !== 503 && answer.status !== 404);
    const busy = answers.filter((answer) => answer.status === 503);
    const whole = answers.filter((answer) => answer.status === 200).length - short.length;
    const missing = answers.filter((answer) => answer.status === 404).length;
    t.diagnostic(`${writes} overwrites, ${answers.length} answers: ${whole} whole 200s, ${busy.length} 503s, ${missing} 404s (empty for a moment), ${short.length} short 200s`);
    assert.ok(writes > 20 && answers.length > 100, 'the load and the writes overlapped');
    assert.deepEqual(short.map((answer) => `${answer.body.length} of ${answer.declared}`).slice(0, 5), [], 'no short 200');
    assert.deepEqual(other.map((answer) => answer.status), []);
    assert.ok(busy.every((answer) => answer.retryAfter !== undefined), 'every 503 says when to come back');
    // A moment of an empty file is a 404 (an empty file is never a photo), not an empty 200.
    assert.equal(answers.filter((answer) => answer.status === 200 && answer.declared === 0).length, 0, 'no empty 200');
  });
});
