import assert from 'node:assert/strict';
import { mkdir, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { newToken } from '../src/links/index.js';
import { Client } from './helpers/client.js';
import { makeJpeg, makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { freePort, serveProcess } from './helpers/robustness-process.js';
import { sorted, treeHashes, webRootEntries } from './helpers/robustness-state.js';

/**
 * Case 2 of issue 8: a restart reconciles the web root before it listens. Only token-named
 * symlinks without a live session go; whatever they point at — the media root, a folder full
 * of files, nothing — is never entered, let alone deleted.
 */

describe('start-up reconcile', () => {
  it('removes orphan links before listening, unlinks only token-named symlinks, never touches what they point at', async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    const stateDir = await tempDir('keepsake-state-');
    const webRoot = path.join(stateDir, 'webroot');
    // Only the start-up reconcile may remove anything: the sweeper would run once a year.
    const env = {
      KEEPSAKE_MEDIA_ROOT: mediaRoot,
      KEEPSAKE_STATE_DIR: stateDir,
      KEEPSAKE_SESSION_TTL: '2s',
      KEEPSAKE_REMEMBER_TTL: '1h',
      KEEPSAKE_SWEEP_INTERVAL: '0 0 1 1 *',
    };

    const first = await serveProcess(env);
    const password = first.firstPassword!;
    const kept = new Client(first.url);
    assert.equal((await kept.login(password, { remember: 'on' })).status, 303);
    const expiring = new Client(first.url);
    assert.equal((await expiring.login(password)).status, 303);
    const keptToken = (await kept.me()).token;
    const expiringToken = (await expiring.me()).token;
    const loggedInAt = Date.now();
    assert.equal(await first.stop(), 0, first.output());

    // Precious things a bad sweeper could destroy, and traps of every shape.
    const precious = await tempDir('keepsake-precious-');
    await makeJpeg(path.join(precious, 'photo.jpg'));
    await mkdir(path.join(precious, 'nested', 'deeper'), { recursive: true });
    await writeFile(path.join(precious, 'nested', 'deeper', 'notes.txt'), 'keep me\n');
    const tokenFolder = newToken();
    await mkdir(path.join(webRoot, tokenFolder));
    await writeFile(path.join(webRoot, tokenFolder, 'index.html'), 'a real folder with a token-like name\n');
    await symlink(precious, path.join(webRoot, tokenFolder, newToken()));
    const tokenFile = newToken();
    await writeFile(path.join(webRoot, tokenFile), 'a real file with a token-like name\n');
    const orphans = {
      toView: newToken(),
      toMediaRoot: newToken(),
      toAlbum: newToken(),
      toPhoto: newToken(),
      toPreciousWithSlash: newToken(),
      dangling: newToken(),
    };
    await symlink(path.join('..', 'views', 'key-1'), path.join(webRoot, orphans.toView));
    await symlink(mediaRoot, path.join(webRoot, orphans.toMediaRoot));
    await symlink(path.join(mediaRoot, 'Summer 2024') + path.sep, path.join(webRoot, orphans.toAlbum));
    await symlink(path.join(mediaRoot, 'Summer 2024', 'beach.jpg'), path.join(webRoot, orphans.toPhoto));
    await symlink(precious + path.sep, path.join(webRoot, orphans.toPreciousWithSlash));
    await symlink('/nonexistent/keepsake', path.join(webRoot, orphans.dangling));
    const notTokens = ['short', 'has-a-dash-in-it', 'Abcdefghij1', 'abcdefghijklmnopqr', 'Tenletters'];
    for (const name of notTokens) await symlink(precious, path.join(webRoot, name));

    const mediaBefore = await treeHashes(mediaRoot);
    const preciousBefore = await treeHashes(precious);
    const folderBefore = await treeHashes(path.join(webRoot, tokenFolder));
    await sleep(Math.max(0, loggedInAt + 2_200 - Date.now()));

    const port = await freePort();
    let atListen: string[] = [];
    const second = await serveProcess(env, {
      port,
      onListening: async () => {
        atListen = await webRootEntries(webRoot);
      },
    });
    try {
      assert.deepEqual(
        atListen,
        sorted(['robots.txt', keptToken, tokenFolder, tokenFile, ...notTokens]),
        'at the first accepted connection: orphans and the expired session\'s link are gone, nothing else is',
      );
      assert.deepEqual(await treeHashes(mediaRoot), mediaBefore, 'the media root is byte for byte the same');
      assert.deepEqual(await treeHashes(precious), preciousBefore, 'a folder behind a removed link keeps its contents');
      assert.deepEqual(await treeHashes(path.join(webRoot, tokenFolder)), folderBefore, 'a real folder with a token name is left alone');

      const keptAgain = new Client(second.url);
      for (const [name, value] of kept.cookies) keptAgain.cookies.set(name, value);
      assert.equal((await keptAgain.me()).token, keptToken, 'a live session survives the restart');
      const photo = await keptAgain.get(`/${keptToken}/original/Summer%202024/beach.jpg`);
      assert.equal(photo.status, 200);
      await photo.arrayBuffer();
      const expiredAgain = new Client(second.url);
      for (const [name, value] of expiring.cookies) expiredAgain.cookies.set(name, value);
      assert.equal((await expiredAgain.get('/api/me')).status, 401);
      for (const token of [expiringToken, ...Object.values(orphans)]) {
        const response = await keptAgain.get(`/${token}/original/Summer%202024/beach.jpg`);
        assert.equal(response.status, 404, 'nothing is served through a removed link');
        await response.arrayBuffer();
      }
    } finally {
      assert.equal(await second.stop(), 0);
    }
    assert.deepEqual(await treeHashes(mediaRoot), mediaBefore);
  });

  it('ends a session whose link is gone (an end cut short by a power cut), so its visitor logs in again instead of seeing broken photos', async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    const stateDir = await tempDir('keepsake-state-');
    const env = { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_SWEEP_INTERVAL: '0 0 1 1 *' };
    const first = await serveProcess(env);
    const password = first.firstPassword!;
    const halfEnded = new Client(first.url);
    const intact = new Client(first.url);
    assert.equal((await halfEnded.login(password)).status, 303);
    assert.equal((await intact.login(password)).status, 303);
    const halfEndedToken = (await halfEnded.me()).token;
    const intactToken = (await intact.me()).token;
    assert.equal(await first.stop(), 0, first.output());
    // What a power cut can leave: the link already unlinked, the row's deletion rolled back.
    await unlink(path.join(stateDir, 'webroot', halfEndedToken));

    const second = await serveProcess(env);
    try {
      const again = new Client(second.url);
      for (const [name, value] of halfEnded.cookies) again.cookies.set(name, value);
      assert.equal((await again.get('/api/me')).status, 401, 'the half-ended session is over');
      assert.equal((await again.login(password)).status, 303, 'and its visitor can log in again');
      const intactAgain = new Client(second.url);
      for (const [name, value] of intact.cookies) intactAgain.cookies.set(name, value);
      assert.equal((await intactAgain.me()).token, intactToken, 'a session with its link is untouched');
      assert.ok((await webRootEntries(path.join(stateDir, 'webroot'))).includes(intactToken));
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });
});
