import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { watch } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type pg from 'pg';
import { createLinkFollower, type LinkFollower } from '../src/cluster/index.js';
import { newToken } from '../src/links/index.js';
import { createLogger } from '../src/log.js';
import type { LinkEvent, LinkEventStore, LinkSnapshot } from '../src/store/index.js';
import { tempDir, waitUntil } from './helpers/fixtures.js';

/*
 * The follower's ordering rules, with the database replaced by a list of committed events: ids
 * are taken at insert and committed in any order, so an id below the last one applied may still
 * arrive, and must be applied then, in order with what came after it. (The real database, two
 * real nodes and their web roots are in cluster.test.ts.)
 */

/** A LISTEN connection that only answers and lets the test send NOTIFYs. */
class FakeListener extends EventEmitter {
  async connect(): Promise<void> {}
  async query(): Promise<{ rows: never[] }> {
    return { rows: [] };
  }
  async end(): Promise<void> {}
  notify(): void {
    this.emit('notification', { channel: 'keepsake_links', payload: '' });
  }
}

function eventLog(): LinkEventStore & { committed: LinkEvent[] } {
  const committed: LinkEvent[] = [];
  return {
    committed,
    async after(id, limit) {
      return committed.filter((event) => event.id > id).sort((a, b) => a.id - b.id).slice(0, limit);
    },
    async snapshot(): Promise<LinkSnapshot> {
      return { lastEventId: 0, tokens: new Set(), active: [] };
    },
    async prune() {
      return 0;
    },
  };
}

async function linked(webRoot: string, token: string): Promise<boolean> {
  return lstat(path.join(webRoot, token)).then((stats) => stats.isSymbolicLink(), () => false);
}

/** A follower over a temp web root and a view `key-1`, reading `events`, listening through whatever `connect` returns. */
async function startFollower(events: LinkEventStore, connect: () => FakeListener, failClosedAfterMs = 60_000): Promise<{ follower: LinkFollower; webRoot: string }> {
  const webRoot = await tempDir('keepsake-follower-web-');
  const viewsDir = await tempDir('keepsake-follower-views-');
  await mkdir(path.join(viewsDir, 'key-1'));
  const follower = createLinkFollower({
    connect: () => connect() as unknown as pg.Client,
    events,
    webRoot,
    views: { dirOf: (name) => path.join(viewsDir, name), exists: async () => true },
    syncViews: async () => undefined,
    failClosedAfterMs,
    log: createLogger('silent'),
  });
  await follower.start();
  return { follower, webRoot };
}

describe('the link follower', () => {
  it('applies an event whose id was skipped once it commits, and keeps the order of what came after it', async () => {
    const events = eventLog();
    const listener = new FakeListener();
    const { follower, webRoot } = await startFollower(events, () => listener);
    try {
      const [early, late, ended] = [newToken(), newToken(), newToken()];
      // Ids 1 and 3 commit; 2 (a login that took its id first) is still in flight.
      events.committed.push({ id: 1, kind: 'link', token: early, view: 'key-1' }, { id: 3, kind: 'link', token: ended, view: 'key-1' });
      listener.notify();
      await waitUntil(() => linked(webRoot, ended), 2_000, 'the link of event 3');
      assert.ok(await linked(webRoot, early));
      assert.equal(await linked(webRoot, late), false);
      // 2 commits, then the session of 3 ends (4): both reach the web root, and 3's link stays gone.
      events.committed.push({ id: 2, kind: 'link', token: late, view: 'key-1' }, { id: 4, kind: 'unlink', token: ended, view: 'key-1' });
      listener.notify();
      await waitUntil(() => linked(webRoot, late), 2_000, 'the link of the late event 2');
      await waitUntil(async () => !(await linked(webRoot, ended)), 2_000, 'the unlink of event 4');
      assert.ok(follower.isServing());
    } finally {
      await follower.stop();
    }
  });

  it('re-reading past a gap does not bring back, even for a moment, the link of a session that ended', async () => {
    const events = eventLog();
    const listener = new FakeListener();
    const { follower, webRoot } = await startFollower(events, () => listener);
    const [late, ended] = [newToken(), newToken()];
    const seen: string[] = [];
    const watcher = watch(webRoot, (_event, name) => {
      if (name !== null) seen.push(name);
    });
    try {
      // 2 is in flight while a session logs in (3) and out (4).
      events.committed.push({ id: 1, kind: 'views', token: null, view: null }, { id: 3, kind: 'link', token: ended, view: 'key-1' });
      listener.notify();
      await waitUntil(() => linked(webRoot, ended), 2_000, 'the link of event 3');
      events.committed.push({ id: 4, kind: 'unlink', token: ended, view: 'key-1' });
      listener.notify();
      await waitUntil(async () => !(await linked(webRoot, ended)), 2_000, 'the unlink of event 4');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = seen.filter((name) => name === ended).length;
      events.committed.push({ id: 2, kind: 'link', token: late, view: 'key-1' });
      listener.notify();
      await waitUntil(() => linked(webRoot, late), 2_000, 'the late link');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(seen.filter((name) => name === ended).length, before, 'the ended session\'s link was not made again');
      assert.equal(await linked(webRoot, ended), false);
    } finally {
      watcher.close();
      await follower.stop();
    }
  });

  it('stops serving and removes every token link when the database is gone longer than allowed', async () => {
    const events = eventLog();
    const token = newToken();
    events.committed.push({ id: 1, kind: 'link', token, view: 'key-1' });
    let listener = new FakeListener();
    let reachable = true;
    const connect = (): FakeListener => {
      listener = new FakeListener();
      if (!reachable) listener.connect = async () => Promise.reject(new Error('connection refused'));
      return listener;
    };
    const { follower, webRoot } = await startFollower(events, connect, 600);
    try {
      listener.notify();
      await waitUntil(() => linked(webRoot, token), 2_000, 'the link');
      reachable = false;
      listener.emit('error', new Error('terminating connection due to administrator command'));
      assert.ok(follower.isServing(), 'a blip shorter than the limit changes nothing');
      await waitUntil(async () => !(await linked(webRoot, token)), 3_000, 'the links to go');
      assert.equal(follower.isServing(), false);
    } finally {
      await follower.stop();
    }
  });
});
