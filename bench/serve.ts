/**
 * `npm run bench:serve [-- --duration S] [--rounds N] [--connections N] [--client load|autocannon]`:
 * requests/second and p50/p99 for one cached `medium` with a logged-in cookie, through
 * (a) keepsake alone, (b) nginx from the link tree, (c) nginx with X-Accel-Redirect, (d) nginx
 * serving a plain copy (the reference), and (e) bare node:http streaming the file (the Node
 * ceiling, for context). The client runs as its own process on loopback; every server is
 * this script's child, stopped by its PID; nginx's configuration is keepsake's generated one.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_DIR, option, positiveNumber, report, runCommand, runNodeJson, tempFolder, type Row } from './common.js';
import { resolveGuardConfig } from '../src/guard/index.js';
import { renderNginxConfig } from '../src/static-server/index.js';
import { BENCH_GUARD, BROWSER_HEADERS } from './keepsake-server.js';
import { freePort, openForNginx, plainConfig, startNginx } from './nginx.js';
import type { LoadResult } from './load.js';
import { startTarget, stopTarget, type TargetInfo } from './serve-target.js';

const AUTOCANNON = path.join(REPO_DIR, 'node_modules', '.bin', 'autocannon');

export const CLIENTS = ['load', 'autocannon'] as const;
export type Client = (typeof CLIENTS)[number];

interface AutocannonJson {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

/**
 * `seconds` of keep-alive GETs over `connections` connections, by a client in its own
 * process: bench/load.ts (default), or autocannon, which is kept to show its own ceiling.
 */
export async function load(client: Client, url: string, cookie: string, seconds: number, connections: number): Promise<LoadResult> {
  const headers = Object.entries({ ...BROWSER_HEADERS, ...(cookie === '' ? {} : { cookie }) }).map(([name, value]) => `${name}:${value}`);
  if (client === 'load') return runNodeJson<LoadResult>('load.ts', [url, String(seconds), String(connections), ...headers], (seconds + 30) * 1000);
  const args = ['-c', String(connections), '-d', String(seconds), '--json', ...headers.flatMap((header) => ['-H', header]), url];
  const result = await runCommand(AUTOCANNON, args, { timeoutMs: (seconds + 30) * 1000 });
  if (result.code !== 0) throw new Error(`autocannon failed: ${result.stderr}`);
  const json = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as AutocannonJson;
  const requestsPerSecond = json.requests.average;
  return { requests: Math.round(requestsPerSecond * seconds), seconds, requestsPerSecond, megabytesPerSecond: NaN, p50: json.latency.p50, p99: json.latency.p99, max: NaN, errors: json.errors + json.timeouts, non2xx: json.non2xx };
}

/** One GET to check the case answers the file, and says who sent it (nginx's ETag is strong, send's weak). */
async function verify(url: string, cookie: string, bytes: number): Promise<string> {
  const response = await fetch(url, { headers: { ...BROWSER_HEADERS, ...(cookie === '' ? {} : { cookie }) } });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200 || body.length !== bytes) throw new Error(`${url} answered ${response.status} with ${body.length} bytes, expected 200 with ${bytes}`);
  return `${response.headers.get('server') ?? 'node'}, ETag ${response.headers.get('etag')}`;
}

export interface CaseResult extends LoadResult {
  readonly name: string;
  readonly servedBy: string;
}

interface LoadPlan {
  readonly client: Client;
  readonly seconds: number;
  readonly connections: number;
  /** Every case is run this many times, interleaved; the best round of each is kept. */
  readonly rounds: number;
}

/** One way of serving the file; `nginx` when an nginx must run for it. */
interface Case {
  readonly name: string;
  readonly url: string;
  readonly cookie: string;
  readonly nginx?: { readonly block: string; readonly port: number; readonly main?: readonly string[] };
}

async function measureCase(entry: Case, bytes: number, plan: LoadPlan): Promise<CaseResult> {
  const nginx = entry.nginx === undefined ? undefined : await startNginx(entry.nginx.block, entry.nginx.port, entry.nginx.main);
  try {
    const servedBy = await verify(entry.url, entry.cookie, bytes);
    await load(plan.client, entry.url, entry.cookie, 1, plan.connections);
    const result = await load(plan.client, entry.url, entry.cookie, plan.seconds, plan.connections);
    const figures = `${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`;
    process.stdout.write(`${entry.name}: ${figures} (${servedBy})\n`);
    if (result.errors > 0 || result.non2xx > 0) throw new Error(`${entry.name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
    return { name: entry.name, servedBy, ...result };
  } finally {
    await nginx?.stop();
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

export async function runServeBench(plan: LoadPlan): Promise<CaseResult[]> {
  const plain = await startTarget('keepsake');
  const accel = await startTarget('accel');
  const copy = await tempFolder('plain');
  const children = [plain.child, accel.child];
  try {
    await openForNginx(plain.info.stateRoot, accel.info.stateRoot, copy.dir);
    await copyFile(plain.info.cachedFile, path.join(copy.dir, 'medium.webp'));
    const bare = await startTarget('node', [path.join(copy.dir, 'medium.webp')]);
    children.push(bare.child);
    const { cookie, mediumPath } = plain.info;
    const [linkPort, jitPort, accelPort, plainPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const local = (port: number, target: string) => `http://127.0.0.1:${port}${target}`;
    const cases: Case[] = [
      { name: 'keepsake alone', url: local(plain.info.port, mediumPath), cookie },
      { name: 'nginx, link tree', url: local(linkPort, mediumPath), cookie, nginx: { block: generatedConfig(plain.info, linkPort, false), port: linkPort } },
      // Debian's nginx.conf leaves PCRE's JIT off; the guard's user-agent map is one long regex.
      { name: 'nginx, link tree, pcre_jit on', url: local(jitPort, mediumPath), cookie, nginx: { block: generatedConfig(plain.info, jitPort, false), port: jitPort, main: ['pcre_jit on;'] } },
      { name: 'nginx, X-Accel-Redirect', url: local(accelPort, accel.info.mediumPath), cookie: accel.info.cookie, nginx: { block: generatedConfig(accel.info, accelPort, true), port: accelPort } },
      { name: 'nginx, plain copy', url: local(plainPort, '/medium.webp'), cookie: '', nginx: { block: plainConfig(`127.0.0.1:${plainPort}`, copy.dir), port: plainPort } },
      { name: 'bare node:http stream', url: local(bare.info.port, '/medium.webp'), cookie: '' },
    ];
    const best = new Map<string, CaseResult>();
    for (let round = 1; round <= plan.rounds; round += 1) {
      process.stdout.write(`round ${round} of ${plan.rounds}\n`);
      for (const entry of cases) {
        const result = await measureCase(entry, plain.info.bytes, plan);
        const previous = best.get(entry.name);
        if (previous === undefined || result.requestsPerSecond > previous.requestsPerSecond) best.set(entry.name, result);
      }
    }
    return [...best.values()];
  } finally {
    for (const child of children) await stopTarget(child);
    await copy.remove();
  }
}

export function serveRows(cases: readonly CaseResult[]): Row[] {
  const find = (name: string) => cases.find((entry) => entry.name === name);
  const reference = find('nginx, plain copy');
  const rows: Row[] = [];
  for (const entry of cases.filter((item) => item !== reference)) {
    const goals: Record<string, [string | undefined, string | undefined]> = {
      'keepsake alone': ['≥ 0.2', '≤ 2'],
      'nginx, link tree': ['≥ 0.95', undefined],
      'nginx, link tree, pcre_jit on': ['≥ 0.95', undefined],
    };
    const [rpsGoal, p99Goal] = goals[entry.name] ?? [undefined, undefined];
    const referenceName = 'nginx, plain copy';
    rows.push({ measure: `${entry.name}: requests/s`, ours: entry.requestsPerSecond, reference: reference?.requestsPerSecond, referenceName, unit: 'req/s', ...(rpsGoal ? { goal: rpsGoal } : {}) });
    rows.push({ measure: `${entry.name}: p50`, ours: entry.p50, reference: reference?.p50, referenceName, unit: 'ms' });
    rows.push({ measure: `${entry.name}: p99`, ours: entry.p99, reference: reference?.p99, referenceName, unit: 'ms', ...(p99Goal ? { goal: p99Goal } : {}) });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Math.ceil(option('duration', 10, positiveNumber('duration')));
  const connections = Math.floor(option('connections', 10, positiveNumber('connections')));
  const client = option<Client>('client', 'load', (text) => {
    if (!CLIENTS.includes(text as Client)) throw new TypeError(`Expected one of ${CLIENTS.join(', ')} for --client but received ${JSON.stringify(text)}`);
    return text as Client;
  });
  const rounds = Math.floor(option('rounds', 2, positiveNumber('rounds')));
  const cases = await runServeBench({ client, seconds, connections, rounds });
  const rows = serveRows(cases);
  const title = `Serving one cached medium: ${client}, ${connections} connections, ${seconds} s per case, best of ${rounds} rounds, nginx from renderNginxConfig`;
  await report(client === 'load' ? 'serve' : `serve-${client}`, title, rows, { client, seconds, connections, rounds, cases });
}
