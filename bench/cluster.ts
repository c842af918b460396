/**
 * `npm run bench:cluster [-- --logins N --seconds S --drops D]`: two keepsake nodes on one PostgreSQL
 * database (a private cluster, as the tests start it), each its own process with its own state
 * dir, over one media root.
 *
 * - Link propagation: N logins on node A, each timed from the moment the login was sent (an
 *   upper bound: the commit comes later, after the password's hashing) and from A's answer (a
 *   lower bound: the commit came earlier; negative when B had the link first) to the moment the
 *   token link appears in node B's web root (fs.watch), then N logouts on B, timed the same ways
 *   to the link's removal on A. p50 and p99 of each.
 * - Catalogue propagation: D photos dropped into new folders of the shared media root, one at a
 *   time; each node is asked for the album every 5 ms until it lists the photo. The leader lists it
 *   once its watcher has seen the file settle (seconds, as on one box); the other node lists it when
 *   the leader's rows have reached the database and been copied: that difference, p50 and p99.
 * - Logins per second with the right password, from 8 clients for S seconds, all against one
 *   node, then spread over both. Each client names its own address (X-Forwarded-For; the nodes
 *   trust loopback), so the throttle sees 8 households, not one address guessing. A node hashes
 *   passwords with at most a share of a core (auth/hash-gate.ts) and answers the rest 503: the
 *   figure is that cap, once per node, on one machine's cores.
 */
import { watch } from 'node:fs';
import path from 'node:path';
import { albumItems } from '../test/helpers/albums.js';
import { Client } from '../test/helpers/client.js';
import { makeJpeg, makeMediaRoot, tempDir } from '../test/helpers/fixtures.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { serveProcess, type ServerProcess } from '../test/helpers/robustness-process.js';
import { option, percentile, positiveNumber, report, type Row } from './common.js';

const CLIENTS = 8;

interface Node {
  readonly process: ServerProcess;
  readonly webRoot: string;
}

/** Times when each name appeared in (or left) a folder, as fs.watch reports them. */
function watchNames(folder: string): { seen: Map<string, number>; close: () => void } {
  const seen = new Map<string, number>();
  const watcher = watch(folder, (_event, name) => {
    if (name !== null && !seen.has(name)) seen.set(name, performance.now());
  });
  return { seen, close: () => watcher.close() };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

interface Timings {
  /** From the request's start (upper bounds). */
  readonly sent: number[];
  /** From the answer (lower bounds). */
  readonly answered: number[];
}

async function propagation(a: Node, b: Node, password: string, logins: number): Promise<{ link: Timings; unlink: Timings }> {
  const link: Timings = { sent: [], answered: [] };
  const unlink: Timings = { sent: [], answered: [] };
  const onB = watchNames(b.webRoot);
  const onA = watchNames(a.webRoot);
  try {
    for (let index = 0; index < logins; index += 1) {
      const client = new Client(a.process.url);
      const sentAt = performance.now();
      const answer = await client.login(password, {});
      const answeredAt = performance.now();
      if (answer.status !== 303) throw new Error(`login answered ${answer.status}`);
      const { token } = await client.me();
      await waitFor(() => onB.seen.has(token), 5_000);
      link.sent.push(onB.seen.get(token)! - sentAt);
      link.answered.push(onB.seen.get(token)! - answeredAt);
      const onNodeB = new Client(b.process.url);
      for (const [name, value] of client.cookies) onNodeB.cookies.set(name, value);
      onA.seen.delete(token);
      const logoutSentAt = performance.now();
      await onNodeB.request('/logout', { method: 'POST' });
      const loggedOutAt = performance.now();
      await waitFor(() => onA.seen.has(token), 5_000);
      unlink.sent.push(onA.seen.get(token)! - logoutSentAt);
      unlink.answered.push(onA.seen.get(token)! - loggedOutAt);
    }
  } finally {
    onA.close();
    onB.close();
  }
  return { link, unlink };
}

/** Right-password logins per second from CLIENTS clients, spread round-robin over `nodes`. */
/** For each of `drops` photos dropped in a new folder: how long after the first node listed it the second did (ms). */
async function cataloguePropagation(nodes: readonly Node[], mediaRoot: string, password: string, drops: number): Promise<number[]> {
  const clients = await Promise.all(
    nodes.map(async (node) => {
      const client = new Client(node.process.url);
      if ((await client.login(password, {})).status !== 303) throw new Error('login failed');
      return client;
    }),
  );
  const lags: number[] = [];
  for (let drop = 0; drop < drops; drop += 1) {
    const album = `Dropped ${drop}`;
    await makeJpeg(path.join(mediaRoot, album, 'photo.jpg'));
    const listedAt = await Promise.all(
      clients.map(async (client) => {
        const deadline = performance.now() + 30_000;
        while (performance.now() < deadline) {
          if ((await albumItems(client, album)).length === 1) return performance.now();
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        throw new Error(`${album} was not listed within 30 s`);
      }),
    );
    lags.push(Math.max(...listedAt) - Math.min(...listedAt));
  }
  return lags;
}

async function loginRate(nodes: readonly Node[], password: string, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, index) => {
      const node = nodes[index % nodes.length]!;
      const address = `203.0.113.${index + 10}`;
      while (performance.now() < until) {
        const client = new Client(node.process.url);
        const answer = await client.request('/login', { method: 'POST', form: { password }, headers: { 'x-forwarded-for': address } });
        if (answer.status === 303) done += 1;
        await client.request('/logout', { method: 'POST', headers: { 'x-forwarded-for': address } });
      }
    }),
  );
  return done / seconds;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const logins = option('logins', 200, positiveNumber('--logins'));
  const seconds = option('seconds', 5, positiveNumber('--seconds'));
  const drops = option('drops', 20, positiveNumber('--drops'));
  const cluster = await startPostgres();
  const nodes: Node[] = [];
  try {
    const databaseUrl = await cluster.database('keepsake_bench');
    const mediaRoot = await tempDir('keepsake-bench-cluster-media-');
    await makeMediaRoot(mediaRoot);
    const started = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const stateDir = await tempDir(`keepsake-bench-node-${name}-`);
        const server = await serveProcess({ KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_DATABASE_URL: databaseUrl, KEEPSAKE_TRUST_PROXY: 'loopback' });
        return { process: server, webRoot: path.join(stateDir, "webroot") };
      }),
    );
    nodes.push(...started);
    const password = nodes.map((node) => node.process.firstPassword).find((each) => each !== undefined);
    if (password === undefined) throw new Error('no node printed the first password');
    const [a, b] = nodes as [Node, Node];
    const measured = await propagation(a, b, password, logins);
    const lags = await cataloguePropagation(nodes, mediaRoot, password, drops);
    const one = await loginRate([a], password, seconds);
    const two = await loginRate([a, b], password, seconds);
    const goal = { reference: 1000, referenceName: 'the goal: 1 s', unit: 'ms' } as const;
    const rows: Row[] = [
      { measure: `link on node B after a login on node A was sent, p50 (${logins} logins)`, ours: percentile(measured.link.sent, 50), ...goal },
      { measure: '… p99 (the login itself, its password hashed at a share of a core, is most of this)', ours: percentile(measured.link.sent, 99), ...goal },
      { measure: "link on node B after node A's answer (the commit is just before it), p50; negative: B had it first", ours: percentile(measured.link.answered, 50), ...goal },
      { measure: "link on node B after node A's answer, p99", ours: percentile(measured.link.answered, 99), ...goal, goal: '≤ 1' },
      { measure: 'link gone on node A after a logout on node B was sent, p50', ours: percentile(measured.unlink.sent, 50), ...goal },
      { measure: 'link gone on node A after a logout on node B was sent, p99', ours: percentile(measured.unlink.sent, 99), ...goal, goal: '≤ 1' },
      { measure: `a dropped photo listed by the other node after the leader listed it, p50 (${drops} drops)`, ours: percentile(lags, 50), ...goal },
      { measure: 'a dropped photo listed by the other node after the leader listed it, p99', ours: percentile(lags, 99), ...goal, goal: '≤ 1' },
      { measure: `logins per second, two nodes (${CLIENTS} clients, ${seconds} s)`, ours: two, reference: one, referenceName: 'one node', unit: '/s' },
    ];
    await report('cluster', 'Two nodes on one PostgreSQL database', rows, { logins, seconds, drops, clients: CLIENTS, link: measured.link, unlink: measured.unlink, catalogue: lags });
  } finally {
    await Promise.all(nodes.map((node) => node.process.stop()));
    await cluster.stop();
  }
}
