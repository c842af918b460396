import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from './helpers/client.js';
import { tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * The web root turns read-only (a remount after a disk error, a mistaken mount option). A link
 * that cannot be removed is a session that has not ended: logout says so (503, try again) and
 * keeps the session, rather than answering "logged out" over a link that still serves every URL;
 * a login cannot make its link and says 503, not a bare 500; the sweeper counts only what it
 * really removed; and once the web root is writable again everything ends as asked.
 */

const PASSWORD = 'the web root went read-only';
const SHORT = 'this key expires in seconds';

async function linkExists(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isSymbolicLink();
  } catch {
    return false;
  }
}

describe('a read-only web root', () => {
  let server: TestServer;
  let webRoot: string;
  let mounted = false;
  let skipReason: string | undefined;

  const remount = (mode: 'ro' | 'rw') => execFileSync('mount', ['-o', `remount,bind,${mode}`, webRoot], { stdio: 'pipe' });

  before(async () => {
    const stateDir = await tempDir('keepsake-state-');
    webRoot = path.join(stateDir, 'webroot');
    await mkdir(webRoot, { recursive: true });
    try {
      // A bind mount of the folder onto itself, so it alone can be made read-only and back.
      execFileSync('mount', ['--bind', webRoot, webRoot], { stdio: 'pipe' });
      mounted = true;
    } catch (error) {
      if (process.env['CI'] !== undefined) throw new Error(`CI must be able to bind-mount (runs as root): ${(error as Error).message}`);
      skipReason = `cannot bind-mount here (needs root): ${(error as Error).message.split('\n')[0]}`;
      return;
    }
    server = await startTestServer({
      stateDir,
      keys: [{ label: 'aunts', password: PASSWORD }],
    });
  });

  after(async () => {
    await server?.close();
    if (mounted) {
      try {
        remount('rw');
      } finally {
        execFileSync('umount', [webRoot]);
      }
    }
  });

  it('logout that cannot remove the link answers 503 and keeps the session; it ends once the web root is writable', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    const family = new Client(server.url);
    assert.equal((await family.login(PASSWORD)).status, 303);
    const { token } = await family.me();
    const link = path.join(webRoot, token);
    assert.ok(await linkExists(link));

    remount('ro');
    try {
      const refused = await family.request('/logout', { method: 'POST' });
      assert.equal(refused.status, 503, 'not a 303 that says logged out');
      assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
      assert.ok(await linkExists(link), 'the link is still there (read-only)');
      assert.equal((await family.me()).token, token, 'so the session is kept, cookie and all: the visitor can try again');
      const tokenInLogs = server.logLines.filter((line) => JSON.stringify(line).includes(token));
      assert.deepEqual(tokenInLogs, [], 'no log line carries the whole token');
    } finally {
      remount('rw');
    }

    assert.equal((await family.request('/logout', { method: 'POST' })).status, 303);
    assert.equal(await linkExists(link), false, 'the link is gone before the answer');
    assert.equal((await family.get('/api/me')).status, 401);
  });

  it('a login that cannot make its link answers 503 with Retry-After, and leaves no session behind', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    const before = (await server.services.access.liveSessions()).length;
    remount('ro');
    try {
      const visitor = new Client(server.url);
      const answer = await visitor.login(PASSWORD);
      assert.equal(answer.status, 503);
      assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal((await visitor.get('/api/me')).status, 401);
    } finally {
      remount('rw');
    }
    assert.equal((await server.services.access.liveSessions()).length, before, 'no session row left');
  });

  it('the sweeper counts only the links it removed, and removes the rest on a later sweep', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    // A key that ends in a second caps its sessions there.
    await server.services.access.addKey({ label: 'brief', password: SHORT, albums: ['*'], canDownloadOriginals: false, expiresAt: Date.now() + 1000 });
    const brief = new Client(server.url);
    assert.equal((await brief.login(SHORT)).status, 303);
    const { token, expiresAt } = await brief.me();
    const link = path.join(webRoot, token);
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now() + 100));

    remount('ro');
    let during: { expired: number; orphans: number };
    try {
      during = await server.services.access.sweep();
    } finally {
      remount('rw');
    }
    assert.deepEqual(during, { expired: 0, orphans: 0 }, 'a link still on disk is not counted as removed');
    assert.ok(await linkExists(link));
    assert.ok(
      server.logLines.some((line) => line['level'] === 50 && /could not remove/.test(String(line['msg']))),
      'the failure is logged as an error',
    );

    const later = await server.services.access.sweep();
    assert.equal(later.expired + later.orphans, 1, 'the next sweep removes it');
    assert.equal(await linkExists(link), false);
  });
});
