import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Client, cookieHeader, downloadOnce } from './helpers/client.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { exists, sha256 } from './helpers/robustness-state.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Case 3 of issue 8: a session ends (revoked, or expired and swept) while one of its
 * downloads is on the wire. The response that already opened its file finishes whole; the
 * next request is the uniform 404; no response is ever a 200 shorter than it says.
 */

const PASSWORD = 'download while swept';

async function noisyPng(file: string, width: number, height: number): Promise<void> {
  await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
    .png({ compressionLevel: 0 })
    .toFile(file);
}

describe('a session ending while its download is on the wire', () => {
  let server: TestServer;
  let bigBytes: Buffer;
  let mediumBytes: Buffer;

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    // Uncompressed: ~27 MB, far more than socket buffers hold, so the file stays open for seconds.
    await noisyPng(path.join(mediaRoot, 'Summer 2024', 'big.png'), 3000, 3000);
    await noisyPng(path.join(mediaRoot, 'Summer 2024', 'medium.png'), 700, 700);
    bigBytes = await readFile(path.join(mediaRoot, 'Summer 2024', 'big.png'));
    mediumBytes = await readFile(path.join(mediaRoot, 'Summer 2024', 'medium.png'));
    // Rates are not under test here: the race below makes more logins and downloads than a person.
    const stateDir = await tempDir('keepsake-state-');
    await writeFile(path.join(stateDir, 'robustness.config.json'), JSON.stringify({ guard: { rates: { enabled: false }, login: { enabled: false } } }));
    server = await startTestServer({
      stateDir,
      mediaRoot,
      env: { KEEPSAKE_CONFIG: path.join(stateDir, 'robustness.config.json') },
      keys: [{ label: 'relatives', password: PASSWORD }],
    });
  });
  after(() => server.close());

  for (const how of ['swept after expiry', 'revoked'] as const) {
    it(`${how}: the download in flight finishes whole, the next request is a 404`, async () => {
      const client = new Client(server.url);
      assert.equal((await client.login(PASSWORD)).status, 303);
      const { token } = await client.me();
      const record = (await server.services.store.sessions.byToken(token))!;
      const url = `${server.url}${token}/original/Summer%202024/big.png`;
      const received = await downloadOnce(url, cookieHeader(client), {
        slow: true,
        async onFirstChunk() {
          if (how === 'revoked') await server.services.access.endSession(record.sid);
          else {
            await server.services.store.sessions.setExpiry(record.sid, Date.now() - 1);
            const swept = await server.services.access.sweep();
            assert.ok(swept.expired >= 1);
          }
          assert.equal(await exists(path.join(server.webRoot, token)), false, 'the link is gone while the body is still flowing');
        },
      });
      assert.equal(received.status, 200);
      assert.ok(received.complete, 'the connection was not cut');
      assert.equal(received.declared, bigBytes.length);
      assert.equal(received.body.length, received.declared, 'Content-Length = bytes received');
      assert.equal(sha256(received.body), sha256(bigBytes), 'the whole file, unchanged');

      const next = await downloadOnce(url, cookieHeader(client), { slow: false });
      assert.equal(next.status, 404);
      assert.equal(next.body.toString(), 'Not Found\n');
      assert.equal((await client.get('/api/me')).status, 401);
    });
  }

  it('racing downloads against sweeps: every answer is a 404 or a whole 200, never a short one', async (t) => {
    const outcomes = { whole: 0, notFound: 0 };
    for (let round = 0; round < 24; round += 1) {
      const client = new Client(server.url);
      assert.equal((await client.login(PASSWORD)).status, 303);
      const { token } = await client.me();
      const { sid } = (await server.services.store.sessions.byToken(token))!;
      const cookie = cookieHeader(client);
      const url = `${server.url}${token}/original/Summer%202024/medium.png`;
      const downloads = Array.from({ length: 3 }, () => downloadOnce(url, cookie, { slow: false }));
      // End the session at a different moment of the requests' lives each round.
      await sleep(round % 6);
      if (round % 2 === 0) await server.services.access.endSession(sid);
      else {
        await server.services.store.sessions.setExpiry(sid, Date.now() - 1);
        await server.services.access.sweep();
      }
      for (const received of await Promise.all(downloads)) {
        if (received.status === 404) {
          outcomes.notFound += 1;
          continue;
        }
        assert.equal(received.status, 200);
        assert.ok(received.complete, 'a 200 is never cut short');
        assert.equal(received.body.length, received.declared);
        assert.equal(sha256(received.body), sha256(mediumBytes));
        outcomes.whole += 1;
      }
    }
    assert.equal(outcomes.whole + outcomes.notFound, 72);
    t.diagnostic(`whole 200s: ${outcomes.whole}, 404s: ${outcomes.notFound}`);
    assert.ok(outcomes.whole > 0 && outcomes.notFound > 0, 'the race went both ways');
    assert.equal((await server.services.access.sweep()).orphans, 0, 'no link outlived its session');
  });
});
