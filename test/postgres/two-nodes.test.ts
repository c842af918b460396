import assert from 'node:assert/strict';
import { lstat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { albumItems } from '../helpers/albums.js';
import { runKeepsake } from '../helpers/cli.js';
import { BROWSER_HEADERS, Client, cookieHeader } from '../helpers/client.js';
import { makeJpeg, makeMediaRoot, tempDir } from '../helpers/fixtures.js';
import { postgresSkip, startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { eventually, serveProcess, type ServerProcess } from '../helpers/robustness-process.js';
import { freePort, NGINX_MISSING, raw, startNginx } from '../helpers/web-servers.js';

/*
 * Several nodes on one PostgreSQL database: two `keepsake serve` processes, each with its own
 * state dir (web root, views, cache), over one media root. A change on either node (or from the
 * command line) must reach the other's web root within a second; a node cut off from the
 * database must stop serving; the sweep moves to the survivor when its leader dies.
 */

const skip = postgresSkip();
/** Sweeps every 2 s, so a node cut off fails closed within 2 s. */
const SWEEP = '*/2 * * * * *';

interface Node {
  readonly name: string;
  readonly stateDir: string;
  readonly webRoot: string;
  process: ServerProcess;
}

async function hasLink(node: Node, token: string): Promise<boolean> {
  return lstat(path.join(node.webRoot, token)).then((stats) => stats.isSymbolicLink(), () => false);
}

/** Milliseconds until `condition` holds (polled every 10 ms), or fails after `timeoutMs`. */
async function timeUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await condition()) return performance.now() - started;
    await sleep(10);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('several nodes on PostgreSQL', { skip, timeout: 180_000 }, () => {
  let cluster: PostgresCluster;
  let databaseUrl: string;
  let mediaRoot: string;
  let password: string;
  let configFile: string;
  const nodes: Node[] = [];
  /** A small media budget per session (10 at once, 1 a second), to see it counted across nodes. */
  const BURST = 10;

  function envOf(node: { stateDir: string }): Record<string, string> {
    return {
      KEEPSAKE_MEDIA_ROOT: mediaRoot,
      KEEPSAKE_STATE_DIR: node.stateDir,
      KEEPSAKE_DATABASE_URL: databaseUrl,
      KEEPSAKE_SWEEP_INTERVAL: SWEEP,
      KEEPSAKE_LOG_LEVEL: 'info',
      KEEPSAKE_CONFIG: configFile,
    };
  }

  async function startNode(name: string, stateDir?: string): Promise<Node> {
    const dir = stateDir ?? (await tempDir(`keepsake-node-${name}-`));
    const node = { name, stateDir: dir, webRoot: path.join(dir, 'webroot') } as Node;
    node.process = await serveProcess(envOf(node));
    return node;
  }

  async function loggedIn(node: Node, secret = password): Promise<{ client: Client; token: string }> {
    const client = new Client(node.process.url);
    const response = await client.login(secret);
    assert.equal(response.status, 303, `login on ${node.name} answered ${response.status}`);
    return { client, token: (await client.me()).token };
  }

  /** The photo the client sees first on `node`, fetched with its cookie. */
  async function photoStatus(node: Node, client: Client): Promise<number> {
    const viewer = new Client(node.process.url);
    for (const [name, value] of client.cookies) viewer.cookies.set(name, value);
    const items = await albumItems(viewer, 'Summer 2024');
    if (items.length === 0) return 0;
    return (await viewer.get(items[0]!.urls['thumb']!)).status;
  }

  before(async () => {
    cluster = await startPostgres();
    databaseUrl = await cluster.database('keepsake_cluster');
    mediaRoot = await tempDir('keepsake-cluster-media-');
    await makeMediaRoot(mediaRoot);
    configFile = path.join(await tempDir('keepsake-cluster-config-'), 'keepsake.config.json');
    await writeFile(configFile, JSON.stringify({ guard: { rates: { perSession: { burst: BURST, perSecond: 1 } } } }));
    // Both nodes start together on an empty database: the schema is made once, one first key.
    const [a, b] = await Promise.all([startNode('a'), startNode('b')]);
    nodes.push(a!, b!);
    const passwords = nodes.map((node) => node.process.firstPassword).filter((each) => each !== undefined);
    assert.equal(passwords.length, 1, 'exactly one node made the first key');
    password = passwords[0]!;
  });

  after(async () => {
    await Promise.all(nodes.map((node) => node.process.stop()));
    await cluster?.stop();
  });

  it('a login on one node links on the other within 1 s, and the other serves the photo for that cookie', async () => {
    const [a, b] = nodes as [Node, Node];
    const { client, token } = await loggedIn(a);
    assert.ok(await hasLink(a, token));
    const ms = await timeUntil(() => hasLink(b, token), 1_000, 'the link on node b');
    assert.ok(ms < 1_000);
    assert.equal(await photoStatus(b, client), 200, 'node b serves the photo for a cookie made on node a');
  });

  it('a logout on one node removes the link on the other within 1 s; neither accepts the cookie after', async () => {
    const [a, b] = nodes as [Node, Node];
    const { client, token } = await loggedIn(a);
    await timeUntil(() => hasLink(b, token), 1_000, 'the link on node b');
    const onB = new Client(b.process.url);
    for (const [name, value] of client.cookies) onB.cookies.set(name, value);
    assert.equal((await onB.request('/logout', { method: 'POST' })).status, 303);
    await timeUntil(async () => !(await hasLink(a, token)), 1_000, 'the link on node a to go');
    assert.equal(await photoStatus(a, client), 0, 'node a no longer shows the album to the ended session');
  });

  it("each node's nginx, configured by `keepsake nginx-config` on that node, serves from disk a session made on the other", { skip: NGINX_MISSING }, async () => {
    const [a, b] = nodes as [Node, Node];
    const port = await freePort();
    const generated = await runKeepsake(['nginx-config', '--listen', `127.0.0.1:${port}`, '--upstream', new URL(b.process.url).host], { ...envOf(b), KEEPSAKE_LOG_LEVEL: 'warn' });
    assert.equal(generated.code, 0, generated.stderr);
    const nginx = await startNginx(await tempDir('keepsake-nginx-node-b-'), generated.stdout, port);
    try {
      const { client, token } = await loggedIn(a);
      await timeUntil(() => hasLink(b, token), 1_000, 'the link on node b');
      const original = (await albumItems(client, 'Summer 2024'))[0]!.urls['original']!;
      const answer = await raw(nginx.url, original, { ...BROWSER_HEADERS, cookie: cookieHeader(client) });
      // nginx's ETag is strong, keepsake's weak: a strong one means node b's nginx took node a's link cookie.
      assert.deepEqual([answer.status, String(answer.headers['etag']).startsWith('W/')], [200, false]);
    } finally {
      await nginx.stop();
    }
  });

  it("one session's media budget is spent across both nodes, not granted once by each", async () => {
    const [a, b] = nodes as [Node, Node];
    const { client, token } = await loggedIn(a);
    await timeUntil(() => hasLink(b, token), 1_000, 'the link on node b');
    const thumb = (await albumItems(client, 'Summer 2024'))[0]!.urls['thumb']!;
    const statuses: number[] = [];
    for (const node of [a, b]) {
      for (let request = 0; request < 7; request += 1) statuses.push((await raw(node.process.url, thumb, { ...BROWSER_HEADERS, cookie: cookieHeader(client) })).status);
    }
    // 14 requests against a burst of 10 (and about 1 a second more): node b refuses what node a spent.
    assert.ok(statuses.slice(0, 7).every((status) => status === 200), `node a: ${statuses.slice(0, 7).join(' ')}`);
    assert.ok(statuses.slice(7).includes(429), `node b refuses once the shared budget is spent: ${statuses.slice(7).join(' ')}`);
  });

  it('`key remove` from the command line ends the key\'s sessions on every node', async () => {
    const [a, b] = nodes as [Node, Node];
    const cli = { ...envOf({ stateDir: await tempDir('keepsake-node-cli-') }), KEEPSAKE_LOG_LEVEL: 'warn' };
    const added = await runKeepsake(['key', 'add', 'cousins', '--password', 'cousins-long-password-1'], cli);
    assert.equal(added.code, 0, added.stderr);
    // The new key's view reaches node b through the outbox too.
    const onA = await loggedIn(a, 'cousins-long-password-1');
    const onB = await loggedIn(b, 'cousins-long-password-1');
    for (const node of nodes) for (const token of [onA.token, onB.token]) await timeUntil(() => hasLink(node, token), 1_000, `${token} on ${node.name}`);
    const removed = await runKeepsake(['key', 'remove', 'cousins'], cli);
    assert.equal(removed.code, 0, removed.stderr);
    for (const node of nodes) for (const token of [onA.token, onB.token]) await timeUntil(async () => !(await hasLink(node, token)), 1_000, `${token} to go on ${node.name}`);
  });

  it('a node cut off from the database drops its links within one sweep interval and refuses media, then recovers', async () => {
    const [, b] = nodes as [Node, Node];
    const { client, token } = await loggedIn(b);
    assert.equal(await photoStatus(b, client), 200);
    await cluster.stop();
    try {
      // One sweep interval (2 s) and the time to notice (a heartbeat, 0.5 s, then 1.5 s at most).
      const ms = await timeUntil(async () => !(await hasLink(b, token)), 5_000, 'node b to remove its links');
      assert.ok(ms >= 1_500, `links stay through a short blip (${Math.round(ms)} ms)`);
      const refused = await new Client(b.process.url).get('/api/albums');
      assert.equal(refused.status, 503);
    } finally {
      await cluster.start();
    }
    assert.ok(await eventually(() => hasLink(b, token), 10_000), 'the session still lives in the database: its link comes back');
    assert.ok(await eventually(async () => (await photoStatus(b, client)) === 200, 5_000), 'and node b serves it again');
  });

  it('only the leader watches the media root; a folder dropped in appears on the other node too', async () => {
    const leads = (node: Node): boolean => node.process.output().lastIndexOf('this node now leads') > node.process.output().lastIndexOf('this node no longer leads');
    assert.ok(await eventually(() => nodes.filter(leads).length === 1, 10_000), 'exactly one node leads');
    const follower = nodes.find((node) => !leads(node))!;
    const leader = nodes.find(leads)!;
    // Leadership may have just moved (the database was cut off above): its watcher starts a moment later.
    const watching = (): boolean => leader.process.output().slice(leader.process.output().lastIndexOf('this node now leads')).includes('watching the media root');
    assert.ok(await eventually(async () => watching(), 10_000), 'the leader watches');
    // Since it last stopped leading (the database was cut off above, and either may have led since).
    const followerOutput = follower.process.output();
    assert.doesNotMatch(followerOutput.slice(Math.max(0, followerOutput.lastIndexOf('this node no longer leads'))), /watching the media root/, 'the other node does not');
    await makeJpeg(path.join(mediaRoot, 'Dropped early', 'first.jpg'));
    const { client } = await loggedIn(follower);
    assert.ok(await eventually(async () => (await albumItems(client, 'Dropped early')).length === 1, 10_000), 'the other node lists the dropped folder');
  });

  it('when the leader dies the other node takes over watching and the sweep: a dropped folder still appears', async () => {
    const leads = (node: Node): boolean => node.process.output().lastIndexOf('this node now leads') > node.process.output().lastIndexOf('this node no longer leads');
    assert.ok(await eventually(() => nodes.filter(leads).length === 1, 10_000), 'exactly one node leads');
    const leader = nodes.find(leads)!;
    const survivor = nodes.find((node) => node !== leader)!;
    const cli = { ...envOf({ stateDir: await tempDir('keepsake-node-cli-') }), KEEPSAKE_LOG_LEVEL: 'warn' };
    assert.equal((await runKeepsake(['key', 'add', 'visitors', '--password', 'visitors-long-password-2', '--expires', '8s'], cli)).code, 0);
    const { token } = await loggedIn(survivor, 'visitors-long-password-2');
    await leader.process.kill();
    const ms = await timeUntil(async () => leads(survivor), 10_000, 'the survivor to lead');
    assert.ok(ms < 10_000);
    await makeJpeg(path.join(mediaRoot, 'Dropped later', 'new.jpg'));
    const { client } = await loggedIn(survivor);
    assert.ok(await eventually(async () => (await albumItems(client, 'Dropped later')).length === 1, 10_000), 'the dropped folder appears');
    // The session of the key that expired is swept (by the new leader) and its link goes.
    assert.ok(await eventually(async () => !(await hasLink(survivor, token)), 15_000), 'the expired session is swept');
    leader.process = await serveProcess(envOf(leader));
  });
  it('the catalogue lives in PostgreSQL: the leader writes it, and a node that joins copies it without scanning the media root', async () => {
    const database = new pg.Client({ connectionString: databaseUrl });
    await database.connect();
    try {
      const stored = async (): Promise<string[]> => (await database.query<{ path: string }>("SELECT album_path || '/' || name AS path FROM catalogue_media ORDER BY 1")).rows.map((row) => row.path);
      assert.ok(await eventually(async () => (await stored()).includes('Dropped later/new.jpg'), 10_000), 'the leader wrote the dropped photo');
      assert.ok((await stored()).includes('Summer 2024/beach.jpg'), `and the first scan's: ${(await stored()).join(', ')}`);
    } finally {
      await database.end();
    }
    const joining = await startNode('c');
    try {
      const { client } = await loggedIn(joining);
      assert.ok(await eventually(async () => (await albumItems(client, 'Dropped later')).length === 1, 10_000), 'the new node lists what the leader found');
      assert.ok((await albumItems(client, 'Summer 2024')).length > 0);
      const output = joining.process.output();
      assert.match(output, /copied the catalogue from the database/);
      assert.doesNotMatch(output, /library scan finished/, 'it read no folder of the media root itself');
    } finally {
      await joining.process.stop();
    }
  });

  it('the login throttle counts attempts made against both nodes', async () => {
    const [a, b] = nodes as [Node, Node];
    // Five free failures per address in all. Six wrong passwords, alternating nodes: three each,
    // which neither node alone would slow; the sixth opens a wait.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) statuses.push((await new Client((attempt % 2 === 0 ? a : b).process.url).login('not-the-password')).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401]);
    // Then one on each node at once: the first to be checked starts a longer wait, so whatever the
    // timing, the other waits (429). Counted per node, both would be the fourth attempt there: free.
    const both = await Promise.all([a, b].map(async (node) => (await new Client(node.process.url).login('not-the-password')).status));
    assert.ok(both.includes(429), `one of two attempts at once is throttled: ${both.join(' ')}`);
  });

  it('says in one line, without the password, when the database cannot be reached, and refuses the review gate', async () => {
    const stateDir = await tempDir('keepsake-node-bad-');
    const unreachable = await runKeepsake(['key', 'list'], { ...envOf({ stateDir }), KEEPSAKE_DATABASE_URL: 'postgres://keepsake:hunter2-secret@127.0.0.1:9/keepsake' });
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.stderr, /KEEPSAKE_DATABASE_URL \(postgres:\/\/keepsake:\*\*\*@127\.0\.0\.1:9\/keepsake\) is not usable/);
    assert.doesNotMatch(unreachable.stderr + unreachable.stdout, /hunter2/);
    const review = await runKeepsake(['review'], { ...envOf({ stateDir }), KEEPSAKE_PUBLISH: 'review' });
    assert.notEqual(review.code, 0);
    assert.match(review.stderr, /KEEPSAKE_PUBLISH=review does not work with KEEPSAKE_DATABASE_URL/);
  });
});
