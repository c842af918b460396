import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, statfs, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Client } from './helpers/client.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { eventually } from './helpers/robustness-process.js';
import { exists } from './helpers/robustness-state.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Case 5 of issue 8: the derivative cache lives on a 2 MB tmpfs that fills up. A visitor gets
 * 503 with Retry-After (try again soon), never a 200 with half an image; every file left in
 * the cache is whole; freeing space is all it takes to recover; temp files left by a crash are
 * gone after a restart.
 */

const PASSWORD = 'the disk is full again';
const PHOTOS = ['one.jpg', 'two.jpg', 'three.jpg'];

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly declared: number;
  readonly body: Buffer;
}

async function fetchAnswer(client: Client, url: string): Promise<Answer> {
  const response = await client.get(url);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, retryAfter: response.headers.get('retry-after'), declared: Number(response.headers.get('content-length')), body };
}

/** A 200 must carry a whole image: as many bytes as it says, and pixels that decode to the end. */
async function assertWholeImage(answer: Answer, what: string): Promise<void> {
  assert.equal(answer.body.length, answer.declared, `${what}: Content-Length = bytes received`);
  await sharp(answer.body).stats();
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('a full disk under the derivative cache', () => {
  let mountPoint: string | undefined;
  let server: TestServer | undefined;
  let client: Client;
  let urls: Map<string, Record<string, string>>;
  const planted = { staleTemps: [] as string[], foreign: '' };
  let skipReason: string | undefined;

  before(async () => {
    const stateDir = await tempDir('keepsake-state-');
    const cacheDir = path.join(stateDir, 'cache');
    await mkdir(cacheDir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', cacheDir], { stdio: 'pipe' });
      mountPoint = cacheDir;
    } catch (error) {
      if (process.env['CI'] !== undefined) throw new Error(`CI must be able to mount a tmpfs (runs as root): ${(error as Error).message}`);
      skipReason = `cannot mount a tmpfs here (needs root): ${(error as Error).message.split('\n')[0]}`;
      return;
    }
    // What a crash in the middle of writing derivatives leaves behind, and a file that is not keepsake's.
    planted.staleTemps = [path.join(cacheDir, 'thumb', 'Noise', '.tmp-0123456789ab'), path.join(cacheDir, 'medium', '.tmp-deadbeefcafe')];
    for (const file of planted.staleTemps) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, Buffer.alloc(40_000, 7));
    }
    planted.foreign = path.join(cacheDir, 'README-not-keepsake.txt');
    await writeFile(planted.foreign, 'left alone\n');

    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    for (const name of PHOTOS) {
      await mkdir(path.join(mediaRoot, 'Noise'), { recursive: true });
      await sharp({ create: { width: 1400, height: 1050, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
        .jpeg({ quality: 90 })
        .toFile(path.join(mediaRoot, 'Noise', name));
    }
    server = await startTestServer({ stateDir, mediaRoot, keys: [{ label: 'relatives', password: PASSWORD }] });
    client = new Client(server.url);
    assert.equal((await client.login(PASSWORD)).status, 303);
    const listing = (await (await client.get('/api/albums/Noise')).json()) as { items: { name: string; urls: Record<string, string> }[] };
    urls = new Map(listing.items.map((item) => [item.name, item.urls]));
    assert.deepEqual([...urls.keys()].sort(), [...PHOTOS].sort());
  });

  after(async () => {
    await server?.close();
    if (mountPoint !== undefined) execFileSync('umount', [mountPoint]);
  });

  it('removes temp files left by a crash at start-up, and nothing else', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    for (const file of planted.staleTemps) assert.equal(await exists(file), false, `${path.basename(file)} removed`);
    assert.equal(await readFile(planted.foreign, 'utf8'), 'left alone\n');
  });

  it('answers 503 with Retry-After while the disk is full, never a partial 200; every file left decodes', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    const { derivatives } = server!.services;
    // Let the ahead-of-time thumbnails settle, then fill the disk to within 96 KB.
    assert.ok(await eventually(() => derivatives.stats().queued + derivatives.stats().running === 0, 30_000));
    const space = await statfs(mountPoint!);
    await writeFile(path.join(mountPoint!, 'filler'), Buffer.alloc(Math.max(0, space.bavail * space.bsize - 96 * 1024)));

    const requests = PHOTOS.flatMap((name) => Array.from({ length: 3 }, () => urls.get(name)!['medium']!));
    const answers = await Promise.all(requests.map((url) => fetchAnswer(client, url)));
    const statuses = answers.map((answer) => answer.status);
    t.diagnostic(`while full: ${statuses.join(' ')}`);
    assert.ok(statuses.includes(503), 'the full disk shows');
    for (const [index, answer] of answers.entries()) {
      if (answer.status === 503) assert.match(answer.retryAfter ?? '', /^\d+$/, '503 carries Retry-After');
      else if (answer.status === 200) await assertWholeImage(answer, requests[index]!);
      else assert.fail(`unexpected ${answer.status} for ${requests[index]}`);
    }
    const left = await filesUnder(mountPoint!);
    assert.deepEqual(left.filter((file) => path.basename(file).startsWith('.tmp-')), [], 'no temp file left behind');
    for (const file of left.filter((name) => name.endsWith('.webp'))) await sharp(await readFile(file)).stats();
    assert.equal((await client.get('/healthz')).status, 200, 'the rest of the service is up');
  });

  it('recovers as soon as space is freed', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    await unlink(path.join(mountPoint!, 'filler'));
    for (const name of PHOTOS) {
      const url = urls.get(name)!['medium']!;
      const answer = await fetchAnswer(client, url);
      assert.equal(answer.status, 200, `${name} after freeing space`);
      await assertWholeImage(answer, url);
      const again = await fetchAnswer(client, url);
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, answer.body, 'served from the cache the second time');
    }
    for (const file of (await filesUnder(mountPoint!)).filter((name) => name.endsWith('.webp'))) await sharp(await readFile(file)).stats();
  });
});
