import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { get } from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { keepsakeArgs, REPO_ROOT, runKeepsake } from './helpers/cli.js';
import { BROWSER_HEADERS, Client, cookieHeader } from './helpers/client.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/** Starts `keepsake serve` as its own process, as `npm start` does, and waits for its URL. */
async function serve(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, keepsakeArgs(['serve']), {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', KEEPSAKE_PORT: '0', KEEPSAKE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const match = /running at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
    if (match !== null) {
      await sleep(100); // the first-key banner follows the URL line
      return { child, url: match[1]!, output: () => output };
    }
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start:\n${output}`);
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('keepsake serve', () => {
  it('prints its URL and, the first time only, the family password; finishes a download in flight on SIGTERM', async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    // A large original, so the download is still running when the signal arrives.
    const big = path.join(mediaRoot, 'Summer 2024', 'big.png');
    await sharp({ create: { width: 2400, height: 2400, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png({ compressionLevel: 0 })
      .toFile(big);
    const size = (await stat(big)).size;
    const env = { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: await tempDir('keepsake-state-') };

    const first = await serve(env);
    const password = /shown only this once\):\s+(\S+)/.exec(first.output())?.[1];
    assert.ok(password, first.output());
    const client = new Client(first.url);
    assert.equal((await client.login(password)).status, 303);
    const { token } = await client.me();
    // Let the catalogue scan find the new file (it does not block serving).
    for (let attempt = 0; attempt < 50 && (await client.get('/api/albums/Summer%202024')).status !== 200; attempt += 1) await sleep(100);

    const received = await new Promise<{ length: number; declared: number }>((resolve, reject) => {
      get(`${first.url}${token}/original/Summer%202024/big.png`, { headers: { ...BROWSER_HEADERS, cookie: cookieHeader(client) } }, (response) => {
        let length = 0;
        response.once('data', () => first.child.kill('SIGTERM'));
        response.on('data', (chunk: Buffer) => {
          length += chunk.length;
          // Read slowly, so the shutdown has to wait for this response.
          response.pause();
          setTimeout(() => response.resume(), 2);
        });
        response.on('end', () => resolve({ length, declared: Number(response.headers['content-length']) }));
        response.on('error', reject);
      }).on('error', reject);
    });
    assert.equal(received.declared, size);
    assert.equal(received.length, size, 'the response in flight finished whole');
    assert.equal(await exitOf(first.child), 0, first.output());

    const second = await serve(env);
    try {
      assert.doesNotMatch(second.output(), /shown only this once/, 'the password is printed only the first time');
      assert.equal((await new Client(second.url).login(password)).status, 303, 'the same password still works');
    } finally {
      second.child.kill('SIGINT');
      assert.equal(await exitOf(second.child), 0);
    }
  });

  it('stops with one clear line when it cannot listen, and a first start that could not keeps the password for the start that can', async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    const env = { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: await tempDir('keepsake-state-'), KEEPSAKE_LOG_LEVEL: 'warn' };
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const refused = await runKeepsake(['serve'], { ...env, KEEPSAKE_PORT: String(port) });
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      const lines = refused.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line, no stack trace: ${refused.stderr}`);
      assert.match(lines[0]!, new RegExp(`^keepsake: cannot listen on 127\\.0\\.0\\.1:${port} \\(KEEPSAKE_HOST, KEEPSAKE_PORT\\): the port is in use`));
    } finally {
      taken.close();
    }
    const unknownHost = await runKeepsake(['serve'], { ...env, KEEPSAKE_HOST: 'no-such-host.invalid', KEEPSAKE_PORT: '0' });
    assert.equal(unknownHost.code, 1);
    assert.match(unknownHost.stderr.trim(), /^keepsake: cannot listen on no-such-host\.invalid:0 \(KEEPSAKE_HOST, KEEPSAKE_PORT\): [^\n]+$/);
    // The family key is made by the start that listens: its password was never lost.
    const first = await serve(env);
    try {
      assert.match(first.output(), /shown only this once/, first.output());
    } finally {
      first.child.kill('SIGINT');
      await exitOf(first.child);
    }
  });

  it('refuses a media root that is a file, in one line', async () => {
    const file = path.join(await tempDir('keepsake-media-'), 'photos');
    await writeFile(file, 'not a folder');
    const refused = await runKeepsake(['serve'], { KEEPSAKE_MEDIA_ROOT: file, KEEPSAKE_STATE_DIR: await tempDir('keepsake-state-'), KEEPSAKE_PORT: '0' });
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr.trim(), /^keepsake: The media root \S+photos is not usable: it is not a folder$/);
    assert.doesNotMatch(refused.stdout, /running/);
  });
});
