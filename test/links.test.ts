import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { runKeepsake } from './helpers/cli.js';
import { Client } from './helpers/client.js';
import { waitUntil } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'a long family password';

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(() => true, () => false);
}


async function treeHashes(root: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const walk = async (directory: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) hashes.set(path.relative(root, full), createHash('sha256').update(await readFile(full)).digest('hex'));
      else if (entry.isSymbolicLink()) hashes.set(path.relative(root, full), 'link');
    }
  };
  await walk(root);
  return hashes;
}

describe('the sweeper and the command line end sessions and their links', () => {
  it('expires a session after its TTL within one per-second sweep', async () => {
    const server = await startTestServer({
      env: { KEEPSAKE_SESSION_TTL: '2s', KEEPSAKE_SWEEP_INTERVAL: '* * * * * *' },
      keys: [{ label: 'brief', password: PASSWORD }],
    });
    try {
      const client = new Client(server.url);
      await client.login(PASSWORD);
      const { token } = await client.me();
      const link = path.join(server.webRoot, token);
      assert.ok(await exists(link));
      assert.equal((await client.get(`/${token}/original/Summer%202024/beach.jpg`)).status, 200);
      await waitUntil(async () => !(await exists(link)), 5_000, 'the link to be swept');
      assert.equal((await client.get(`/${token}/original/Summer%202024/beach.jpg`)).status, 404);
      assert.equal((await client.get('/api/me')).status, 401);
      assert.equal(await server.services.store.sessions.byToken(token), undefined);
    } finally {
      await server.close();
    }
  });

  it('keeps the token for the life of a session that is renewed by activity', async () => {
    const server = await startTestServer({ env: { KEEPSAKE_SESSION_TTL: '4s' }, keys: [{ label: 'busy', password: PASSWORD }] });
    try {
      const client = new Client(server.url);
      await client.login(PASSWORD);
      const first = await client.me();
      await sleep(2_300);
      await client.me();
      const renewed = await client.me();
      assert.equal(renewed.token, first.token, 'same token after renewal');
      assert.ok(Date.parse(renewed.expiresAt) > Date.parse(first.expiresAt), 'expiry pushed forward');
      await sleep(2_300);
      assert.equal((await client.me()).token, first.token, 'alive past the first expiry');
    } finally {
      await server.close();
    }
  });

  it('`sessions revoke` and `key remove` end sessions and remove their links while the server runs', async () => {
    const server = await startTestServer({
      keys: [
        { label: 'cousins', password: PASSWORD },
        { label: 'neighbours', password: 'neighbourly password' },
      ],
    });
    try {
      const first = new Client(server.url);
      const second = new Client(server.url);
      const neighbour = new Client(server.url);
      await first.login(PASSWORD);
      await second.login(PASSWORD);
      await neighbour.login('neighbourly password');
      const revoked = (await first.me()).token;

      const revoke = await runKeepsake(['sessions', 'revoke', revoked], server.env);
      assert.equal(revoke.code, 0, revoke.stderr);
      assert.match(revoke.stdout, /Ended 1 session/);
      assert.equal(await exists(path.join(server.webRoot, revoked)), false);
      assert.equal((await first.get('/api/me')).status, 401);
      assert.equal((await second.me()).label, 'cousins', 'the other session lives on');

      const neighbourToken = (await neighbour.me()).token;
      const remove = await runKeepsake(['key', 'remove', 'neighbours'], server.env);
      assert.equal(remove.code, 0, remove.stderr);
      assert.match(remove.stdout, /ended 1 session/);
      assert.equal(await exists(path.join(server.webRoot, neighbourToken)), false);
      assert.equal((await neighbour.get(`/${neighbourToken}/original/Summer%202024/beach.jpg`)).status, 404);
      assert.equal((await neighbour.login('neighbourly password')).status, 401, 'the removed key no longer opens anything');
    } finally {
      await server.close();
    }
  });

  it('a link left behind by another process is swept by the running server within one sweep', async () => {
    const server = await startTestServer({ env: { KEEPSAKE_SWEEP_INTERVAL: '* * * * * *' }, keys: [{ label: 'x', password: PASSWORD }] });
    try {
      const client = new Client(server.url);
      await client.login(PASSWORD);
      const { token } = await client.me();
      const record = (await server.services.store.sessions.byToken(token))!;
      await server.services.store.sessions.delete(record.sid);
      await waitUntil(async () => !(await exists(path.join(server.webRoot, token))), 3_000, 'the orphan link to go');
    } finally {
      await server.close();
    }
  });

  it('restart: orphan links go before listening; real files and folders named like tokens, and the media root, are untouched', async () => {
    let server: TestServer = await startTestServer({ keys: [{ label: 'restart', password: PASSWORD }] });
    const { stateDir, mediaRoot, webRoot } = server;
    const kept = new Client(server.url);
    await kept.login(PASSWORD);
    const keptToken = (await kept.me()).token;
    const orphaned = new Client(server.url);
    await orphaned.login(PASSWORD);
    const orphanToken = (await orphaned.me()).token;
    await server.services.store.sessions.delete((await server.services.store.sessions.byToken(orphanToken))!.sid);
    const mediaBefore = await treeHashes(mediaRoot);
    await server.close();

    // What a crash or a careless admin might leave in the web root.
    await symlink(mediaRoot, path.join(webRoot, 'PlantedOrphanLink'));
    await mkdir(path.join(webRoot, 'RealFolderNamedLikeAToken'));
    await writeFile(path.join(webRoot, 'RealFolderNamedLikeAToken', 'keep.txt'), 'keep me');
    await writeFile(path.join(webRoot, 'RealFileNamedLikeAToken'), 'keep me too');
    await symlink(mediaRoot, path.join(webRoot, 'not-a-token-link'));

    server = await startTestServer({ stateDir, mediaRoot });
    try {
      assert.equal(await exists(path.join(webRoot, orphanToken)), false, 'orphan of a deleted session removed');
      assert.equal(await exists(path.join(webRoot, 'PlantedOrphanLink')), false, 'planted token-shaped link removed');
      assert.ok(await exists(path.join(webRoot, keptToken)), 'a live session keeps its link');
      assert.ok((await stat(path.join(webRoot, 'RealFolderNamedLikeAToken'))).isDirectory());
      assert.equal(await readFile(path.join(webRoot, 'RealFolderNamedLikeAToken', 'keep.txt'), 'utf8'), 'keep me');
      assert.equal(await readFile(path.join(webRoot, 'RealFileNamedLikeAToken'), 'utf8'), 'keep me too');
      assert.ok((await lstat(path.join(webRoot, 'not-a-token-link'))).isSymbolicLink(), 'only token-named links are ever removed');
      assert.deepEqual(await treeHashes(mediaRoot), mediaBefore, 'the media root is byte-for-byte the same');
      const again = new Client(server.url);
      for (const [name, value] of kept.cookies) again.cookies.set(name, value);
      assert.equal((await again.me()).token, keptToken, 'the session survives a restart');
      await server.services.access.sweep();
      assert.ok((await stat(path.join(webRoot, 'RealFolderNamedLikeAToken'))).isDirectory(), 'and survives a sweep too');
      assert.ok(await exists(path.join(webRoot, 'RealFileNamedLikeAToken')));
    } finally {
      await server.close();
    }
  });
});
