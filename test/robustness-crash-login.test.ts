import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LoginStep } from '../src/links/index.js';
import { Client } from './helpers/client.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { serveProcess, type ServerProcess } from './helpers/robustness-process.js';
import { exists, liveTokens, sessionRows, sorted, webRootEntries } from './helpers/robustness-state.js';

/**
 * Case 1 of issue 8: the server dies (SIGKILL, no clean-up) right after each step of a login.
 * One state dir lives through every crash, so leftovers of one crash would show in the next;
 * a visitor who logged in before all of it must stay logged in throughout.
 */

const STEPS: readonly LoginStep[] = ['row-pending', 'link-created', 'row-active'];
const PHOTO = 'original/Summer%202024/beach.jpg';

/** The same browser (its cookies) talking to the restarted server, which has a new port. */
function sameBrowser(client: Client, url: string): Client {
  const moved = new Client(url);
  for (const [name, value] of client.cookies) moved.cookies.set(name, value);
  return moved;
}

describe('a crash during a login leaves nothing a restart does not clean up', () => {
  let env: Record<string, string>;
  let webRoot: string;
  let stateDir: string;
  let password: string;
  let survivor: Client;
  let survivorToken: string;
  let running: ServerProcess | undefined;

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
    stateDir = await tempDir('keepsake-state-');
    webRoot = path.join(stateDir, 'webroot');
    env = { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_SESSION_TTL: '1h' };
    const first = await serveProcess(env);
    assert.ok(first.firstPassword, first.output());
    password = first.firstPassword;
    survivor = new Client(first.url);
    assert.equal((await survivor.login(password)).status, 303);
    survivorToken = (await survivor.me()).token;
    // A power cut while idle, with one visitor logged in.
    assert.equal(await first.kill(), 'SIGKILL');
  });

  after(async () => {
    await running?.kill();
  });

  /** What a restart must always show: only live sessions' links and robots.txt, no pending row. */
  async function assertClean(label: string): Promise<void> {
    assert.deepEqual(sessionRows(stateDir).filter((row) => row.state === 'pending'), [], `${label}: no pending row`);
    assert.deepEqual(await webRootEntries(webRoot), sorted([...liveTokens(stateDir), 'robots.txt']), `${label}: web root = live tokens + robots.txt`);
  }

  for (const step of STEPS) {
    it(`after "${step}": restart removes the leftovers, no 500, the visitor can log in again`, async () => {
      const crashing = await serveProcess({ ...env, KEEPSAKE_TEST_CRASH_AFTER_LOGIN_STEP: step });
      const before = new Set(sessionRows(stateDir).map((row) => row.token));
      const attempt = await new Client(crashing.url).login(password).then(
        (response) => response.status,
        (error: unknown) => `dropped (${(error as Error).message})`,
      );
      assert.match(String(attempt), /^dropped/, 'the connection drops as the process dies');
      assert.equal(await crashing.exited, 'SIGKILL', crashing.output());

      // The crash left exactly what the step implies: proof that the hook fired where it says.
      const left = sessionRows(stateDir).filter((row) => !before.has(row.token));
      assert.equal(left.length, 1, 'one row from the interrupted login');
      const [row] = left;
      assert.equal(row!.state, step === 'row-active' ? 'active' : 'pending');
      assert.equal(await exists(path.join(webRoot, row!.token)), step !== 'row-pending', 'the link exists from "link-created" on');

      running = await serveProcess(env);
      await assertClean(`restart after ${step}`);
      if (step !== 'row-active') assert.equal(await exists(path.join(webRoot, row!.token)), false, 'the half-made session\'s link is gone');

      // The visitor from before every crash is still in; the one whose login crashed logs in again.
      survivor = sameBrowser(survivor, running.url);
      const statuses: number[] = [];
      const me = await survivor.get('/api/me');
      statuses.push(me.status);
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { token: string }).token, survivorToken);
      const photo = await survivor.get(`/${survivorToken}/${PHOTO}`);
      statuses.push(photo.status);
      await photo.arrayBuffer();
      const again = new Client(running.url);
      const login = await again.login(password);
      statuses.push(login.status, (await again.get('/')).status, (await again.get('/api/albums')).status);
      const { token } = await again.me();
      const media = await again.get(`/${token}/${PHOTO}`);
      statuses.push(media.status);
      await media.arrayBuffer();
      assert.deepEqual(statuses, [200, 200, 303, 200, 200, 200]);
      await assertClean(`after a new login following ${step}`);
      assert.doesNotMatch(running.output(), /"level":(50|60)/, 'no error logged');

      // The next crash test starts from this state dir, after another power cut.
      assert.equal(await running.kill(), 'SIGKILL');
      running = undefined;
    });
  }
});
