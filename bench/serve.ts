/**
 * `npm run bench:serve [-- --duration S] [--rounds N] [--connections N]`: requests/second and
 * p50/p99 for one cached `thumb` (what a grid asks for, dozens at a time) and one cached `medium`
 * (what the viewer asks for), with a logged-in cookie and browser headers, through (a) keepsake
 * alone, (b) nginx, lighttpd and Apache from the link tree, as generated (lighttpd and Apache with
 * their Lua scripts), (c) nginx with X-Accel-Redirect, (d) nginx serving a plain copy of the same
 * bytes (the reference), and (e) bare node:http sending them from memory (the Node ceiling). The load comes from Debian's wrk in its own
 * process on loopback; every server is this script's child, stopped by its PID; nginx runs
 * keepsake's generated configuration under Debian's default nginx.conf.
 */
import { chmod, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { option, positiveNumber, report, tempFolder, type Row } from './common.js';
import { resolveGuardConfig } from '../src/guard/index.js';
import { LINK_SCRIPT_NAME, renderApacheConfig, renderLighttpdConfig, renderNginxConfig, writeLinkScript, type ScriptedServer } from '../src/static-server/index.js';
import { startApache, startLighttpd } from '../test/helpers/web-servers.js';
import { BENCH_GUARD, BROWSER_HEADERS } from './keepsake-server.js';
import { freePort, openForNginx, plainConfig, startNginx } from './nginx.js';
import { startTarget, stopTarget, type TargetInfo } from './serve-target.js';
import { ensureWrk, runWrk, type WrkResult } from './wrk.js';

export const SIZES = ['thumb', 'medium'] as const;
export type Size = (typeof SIZES)[number];

const SERVERS = ['keepsake alone', 'nginx, link tree', 'lighttpd, link tree', 'Apache, link tree', 'nginx, X-Accel-Redirect', 'nginx, plain copy', 'bare node:http'] as const;
type Server = (typeof SERVERS)[number];
const REFERENCE: Server = 'nginx, plain copy';

/** The goals of the serving bench, beside the plain copy: requests/s, and p99 where one is set. */
const GOALS: Partial<Record<`${Server}, ${Size}`, { rps: string; p99?: string }>> = {
  // lighttpd and Apache have no goal of their own: their rows stand beside nginx's.
  'keepsake alone, thumb': { rps: '≥ 0.2' },
  'keepsake alone, medium': { rps: '≥ 0.4', p99: '≤ 3' },
  'nginx, link tree, thumb': { rps: '≥ 0.9' },
  'nginx, link tree, medium': { rps: '≥ 0.95' },
  'nginx, X-Accel-Redirect, thumb': { rps: '≥ 0.3' },
};

export interface CaseResult extends WrkResult {
  readonly server: Server;
  readonly size: Size;
  readonly servedBy: string;
}

interface LoadPlan {
  readonly seconds: number;
  readonly connections: number;
  /** Every case is run this many times, interleaved; the best round of each is kept. */
  readonly rounds: number;
}

/** One way of serving the files; `front` starts the web server it needs, if any. */
interface Case {
  readonly server: Server;
  readonly paths: Readonly<Record<Size, string>>;
  readonly port: number;
  readonly cookie: string;
  readonly front?: () => Promise<{ stop(): Promise<void> }>;
}

/** One GET to check the case answers the file, and says who sent it (nginx's ETag is strong, keepsake's weak). */
async function verify(url: string, cookie: string, bytes: number): Promise<string> {
  const response = await fetch(url, { headers: { ...BROWSER_HEADERS, ...(cookie === '' ? {} : { cookie }) } });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200 || body.length !== bytes) throw new Error(`${url} answered ${response.status} with ${body.length} bytes, expected 200 with ${bytes}`);
  return `${response.headers.get('server') ?? 'node'}, ETag ${response.headers.get('etag')}`;
}

async function measureCase(entry: Case, bytes: Readonly<Record<Size, number>>, plan: LoadPlan): Promise<CaseResult[]> {
  const front = await entry.front?.();
  try {
    const results: CaseResult[] = [];
    for (const size of SIZES) {
      const url = `http://127.0.0.1:${entry.port}${entry.paths[size]}`;
      const headers = { ...BROWSER_HEADERS, ...(entry.cookie === '' ? {} : { cookie: entry.cookie }) };
      const servedBy = await verify(url, entry.cookie, bytes[size]);
      // A warm-up: the first second of a process (JIT, page cache, keep-alive pools) is not its speed.
      await runWrk({ url, seconds: 2, connections: plan.connections, headers });
      const result = await runWrk({ url, seconds: plan.seconds, connections: plan.connections, headers });
      process.stdout.write(`${entry.server}, ${size}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms (${servedBy})\n`);
      if (result.non2xx > 0 || result.socketErrors > 0) throw new Error(`${entry.server}, ${size}: ${result.non2xx} non-2xx answers, ${result.socketErrors} socket errors`);
      results.push({ server: entry.server, size, servedBy, ...result });
    }
    return results;
  } finally {
    await front?.stop();
  }
}

/** keepsake's generated configuration for this target, with the same (raised) media budgets keepsake has. */
export function generatedConfig(info: TargetInfo, listenPort: number, accel: boolean): string {
  const guard = resolveGuardConfig(BENCH_GUARD);
  if (!guard.ok) throw new Error(guard.problems.join('\n'));
  return renderNginxConfig({
    webRoot: info.webRoot,
    mediaRoot: info.mediaRoot,
    cacheDir: info.cacheDir,
    linkSecret: info.linkSecret,
    upstream: `127.0.0.1:${info.port}`,
    listen: `127.0.0.1:${listenPort}`,
    guard: guard.config,
    accel,
    // Made and written like keepsake's own log lines, which go to /dev/null in the bench too.
    accessLog: '/dev/null',
  });
}

/**
 * lighttpd or Apache with keepsake's generated configuration and Lua script, as the tests start
 * them (unprivileged workers, the refusal bodies readable). Their access logs go to /dev/null, as
 * keepsake's and nginx's do here: the default paths under /var/log are not writable by `nobody`.
 */
async function scriptedFront(server: ScriptedServer, info: TargetInfo, port: number): Promise<{ stop(): Promise<void> }> {
  const guard = resolveGuardConfig(BENCH_GUARD);
  if (!guard.ok) throw new Error(guard.problems.join('\n'));
  const dir = await tempFolder(server);
  const refusalsDir = path.join(info.stateRoot, 'data', 'refusals');
  const options = { webRoot: info.webRoot, mediaRoot: info.mediaRoot, cacheDir: info.cacheDir, refusalsDir, linkSecret: info.linkSecret, upstream: `127.0.0.1:${info.port}`, listen: `127.0.0.1:${port}`, guard: guard.config, linkScript: path.join(dir.dir, LINK_SCRIPT_NAME), accessLog: '/dev/null' };
  // The bench's workers are `nobody`, in no group of ours: the script is opened to them here only.
  await chmod(await writeLinkScript(server, options), 0o644);
  await openForNginx(dir.dir);
  const running = server === 'lighttpd' ? await startLighttpd(dir.dir, renderLighttpdConfig(options), port, info.webRoot) : await startApache(dir.dir, renderApacheConfig(options), port, info.webRoot);
  return {
    async stop() {
      await running.stop();
      await dir.remove();
    },
  };
}

export async function runServeBench(plan: LoadPlan): Promise<CaseResult[]> {
  await ensureWrk();
  const plain = await startTarget('keepsake');
  const accel = await startTarget('accel');
  const copy = await tempFolder('plain');
  const children = [plain.child, accel.child];
  try {
    await openForNginx(plain.info.stateRoot, accel.info.stateRoot, copy.dir);
    await copyFile(plain.info.cachedFile, path.join(copy.dir, 'medium.webp'));
    await copyFile(plain.info.thumbFile, path.join(copy.dir, 'thumb.webp'));
    const bare = await startTarget('node', [copy.dir]);
    children.push(bare.child);
    const bytes = { thumb: plain.info.thumbBytes, medium: plain.info.bytes };
    const ownPaths = (info: TargetInfo) => ({ thumb: info.thumbPath, medium: info.mediumPath });
    const copyPaths = { thumb: '/thumb.webp', medium: '/medium.webp' };
    const [linkPort, lighttpdPort, apachePort, accelPort, plainPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const cases: Case[] = [
      { server: 'keepsake alone', paths: ownPaths(plain.info), port: plain.info.port, cookie: plain.info.cookie },
      { server: 'nginx, link tree', paths: ownPaths(plain.info), port: linkPort, cookie: plain.info.cookie, front: () => startNginx(generatedConfig(plain.info, linkPort, false), linkPort) },
      { server: 'lighttpd, link tree', paths: ownPaths(plain.info), port: lighttpdPort, cookie: plain.info.cookie, front: () => scriptedFront('lighttpd', plain.info, lighttpdPort) },
      { server: 'Apache, link tree', paths: ownPaths(plain.info), port: apachePort, cookie: plain.info.cookie, front: () => scriptedFront('apache', plain.info, apachePort) },
      { server: 'nginx, X-Accel-Redirect', paths: ownPaths(accel.info), port: accelPort, cookie: accel.info.cookie, front: () => startNginx(generatedConfig(accel.info, accelPort, true), accelPort) },
      { server: 'nginx, plain copy', paths: copyPaths, port: plainPort, cookie: '', front: () => startNginx(plainConfig(`127.0.0.1:${plainPort}`, copy.dir), plainPort) },
      { server: 'bare node:http', paths: copyPaths, port: bare.info.port, cookie: '' },
    ];
    const best = new Map<string, CaseResult>();
    for (let round = 1; round <= plan.rounds; round += 1) {
      process.stdout.write(`round ${round} of ${plan.rounds}\n`);
      for (const entry of cases) {
        for (const result of await measureCase(entry, bytes, plan)) {
          const key = `${result.server}, ${result.size}`;
          const previous = best.get(key);
          if (previous === undefined || result.requestsPerSecond > previous.requestsPerSecond) best.set(key, result);
        }
      }
    }
    return [...best.values()];
  } finally {
    for (const child of children) await stopTarget(child);
    await copy.remove();
  }
}

export function serveRows(cases: readonly CaseResult[]): Row[] {
  const rows: Row[] = [];
  for (const size of SIZES) {
    const reference = cases.find((entry) => entry.server === REFERENCE && entry.size === size);
    for (const entry of cases.filter((item) => item.size === size && item !== reference)) {
      const goal = GOALS[`${entry.server}, ${size}`];
      const referenceName = `${REFERENCE}, ${size}`;
      rows.push({ measure: `${size}, ${entry.server}: requests/s`, ours: entry.requestsPerSecond, reference: reference?.requestsPerSecond, referenceName, unit: 'req/s', ...(goal ? { goal: goal.rps } : {}) });
      rows.push({ measure: `${size}, ${entry.server}: p50`, ours: entry.p50, reference: reference?.p50, referenceName, unit: 'ms' });
      rows.push({ measure: `${size}, ${entry.server}: p99`, ours: entry.p99, reference: reference?.p99, referenceName, unit: 'ms', ...(goal?.p99 ? { goal: goal.p99 } : {}) });
    }
    if (reference !== undefined) rows.push({ measure: `${size}, ${REFERENCE}: requests/s`, ours: reference.requestsPerSecond, reference: undefined, referenceName: 'the reference', unit: 'req/s' });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Math.ceil(option('duration', 4, positiveNumber('duration')));
  const connections = Math.floor(option('connections', 10, positiveNumber('connections')));
  const rounds = Math.floor(option('rounds', 2, positiveNumber('rounds')));
  const cases = await runServeBench({ seconds, connections, rounds });
  const title = `Serving one cached thumb and one cached medium: wrk, ${connections} keep-alive connections, ${seconds} s per case after a 2 s warm-up, best of ${rounds} interleaved rounds, nginx from renderNginxConfig`;
  await report('serve', title, serveRows(cases), { seconds, connections, rounds, cases });
}
