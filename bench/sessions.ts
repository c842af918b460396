/**
 * `npm run bench:sessions [-- --sessions N] [--logins N]`:
 * - the time to sweep N (default 100,000) expired sessions, each with its real token link,
 *   through keepsake's own sweep (openServices → sessionLinks.sweep()), with the longest
 *   event-loop stall meanwhile (monitorEventLoopDelay, 2 ms resolution); the reference is
 *   `find -delete` unlinking as many links in one C process;
 * - login latency (one at a time) and throughput (four at once) over HTTP against the real
 *   server in its own process, beside the scrypt hash alone (verifyPassword) in this one.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, symlinkSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { hashPassword, verifyPassword } from '../src/auth/index.js';
import { statePaths } from '../src/config.js';
import { keyViewName, newToken } from '../src/links/index.js';
import { createLogger } from '../src/log.js';
import { openServices } from '../src/services.js';
import { loadSettings } from '../src/settings.js';
import { createSessionsTable } from '../src/store/index.js';
import { forEachLimited, median, option, percentile, positiveNumber, report, runCommand, tempFolder, type Row } from './common.js';
import { BENCH_PASSWORD, login } from './keepsake-server.js';
import { startTarget, stopTarget } from './serve-target.js';

export interface SweepResult {
  readonly sessions: number;
  readonly sweepMs: number;
  readonly maxStallMs: number;
  readonly p99StallMs: number;
  readonly removed: number;
  readonly linksLeft: number;
  readonly findDeleteMs: number;
}

/** `count` tokens, unique, with their links made synchronously (set-up, not measured). */
function makeLinks(webRoot: string, target: string, count: number): string[] {
  const tokens = new Set<string>();
  while (tokens.size < count) tokens.add(newToken());
  for (const token of tokens) symlinkSync(target, path.join(webRoot, token), 'dir');
  return [...tokens];
}

export async function measureSweep(count: number): Promise<SweepResult> {
  const folder = await tempFolder('sweep');
  const stateDir = path.join(folder.dir, 'data');
  const mediaRoot = path.join(folder.dir, 'media');
  await mkdir(mediaRoot, { recursive: true });
  await mkdir(stateDir, { recursive: true });
  const config = loadSettings({ KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_LOG_LEVEL: 'info' }, stateDir);
  const services = await openServices(config, createLogger('info', createWriteStream('/dev/null')));
  try {
    const { key } = await services.access.addKey({ label: 'bench', password: BENCH_PASSWORD, albums: ['*'], canDownloadOriginals: false });
    const view = keyViewName(key.id);
    const viewDir = path.join(statePaths(config).views, view);
    // Rows go straight into the table in one transaction: setting up 100,000 sessions is not what is measured.
    const sessions = createSessionsTable(services.db);
    await mkdir(viewDir, { recursive: true });
    const webRoot = config.webRoot;
    const tokens = makeLinks(webRoot, path.relative(webRoot, viewDir), count);
    const expiredAt = Date.now() - 60_000;
    const insert = services.db.transaction((batch: readonly string[]) => {
      for (const token of batch) {
        const sid = randomUUID();
        sessions.insertPending({ sid, token, keyId: key.id, shareId: null, label: key.label, albums: key.albums, canDownloadOriginals: false, view, createdAt: expiredAt - 3_600_000, expiresAt: expiredAt, maxAge: 3_600_000, expiresCap: null, location: 'none' });
        sessions.activate(sid);
      }
    });
    insert(tokens);
    const histogram = monitorEventLoopDelay({ resolution: 2 });
    histogram.enable();
    const started = performance.now();
    const { expired } = await services.access.sweep();
    const sweepMs = performance.now() - started;
    histogram.disable();
    const linksLeft = (await readdir(webRoot)).filter((name) => name !== 'robots.txt').length;
    // The floor: the same number of links unlinked by one C process, no database at all.
    const reference = path.join(folder.dir, 'reference');
    await mkdir(reference);
    makeLinks(reference, viewDir, count);
    const find = await runCommand('find', [reference, '-mindepth', '1', '-maxdepth', '1', '-type', 'l', '-delete'], { timeoutMs: 120_000 });
    if (find.code !== 0) throw new Error(`find -delete failed: ${find.stderr}`);
    return { sessions: count, sweepMs, maxStallMs: histogram.max / 1e6, p99StallMs: histogram.percentile(99) / 1e6, removed: expired, linksLeft, findDeleteMs: find.ms };
  } finally {
    await services.close();
    await folder.remove();
  }
}

export interface LoginResult {
  readonly hashMs: readonly number[];
  readonly sequentialMs: readonly number[];
  readonly concurrent: number;
  readonly loginsPerSecond: number;
  readonly hashesPerSecond: number;
}

/** `count` logins of work at `concurrency`, per second. */
async function rate(count: number, concurrency: number, work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await forEachLimited(Array.from({ length: count }), concurrency, async () => {
    await work();
  });
  return count / ((performance.now() - started) / 1000);
}

export async function measureLogins(count: number, concurrency: number): Promise<LoginResult> {
  const stored = await hashPassword(BENCH_PASSWORD);
  await verifyPassword(BENCH_PASSWORD, stored);
  const hashMs: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const started = performance.now();
    if (!(await verifyPassword(BENCH_PASSWORD, stored))) throw new Error('verifyPassword said no');
    hashMs.push(performance.now() - started);
  }
  const hashesPerSecond = await rate(count, concurrency, () => verifyPassword(BENCH_PASSWORD, stored));
  const target = await startTarget('keepsake');
  try {
    const url = `http://127.0.0.1:${target.info.port}`;
    await login(url);
    const sequentialMs: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const started = performance.now();
      await login(url);
      sequentialMs.push(performance.now() - started);
    }
    const loginsPerSecond = await rate(count, concurrency, () => login(url));
    return { hashMs, sequentialMs, concurrent: concurrency, loginsPerSecond, hashesPerSecond };
  } finally {
    await stopTarget(target.child);
  }
}

export function sessionRows(sweep: SweepResult, logins: LoginResult): Row[] {
  const hashP99 = percentile(logins.hashMs, 99);
  const loginP99 = percentile(logins.sequentialMs, 99);
  const overhead = loginP99 === undefined || hashP99 === undefined ? undefined : loginP99 - hashP99;
  const hash = 'verifyPassword alone';
  return [
    { measure: 'login p50, one at a time', ours: median(logins.sequentialMs), reference: median(logins.hashMs), referenceName: hash, unit: 'ms' },
    { measure: 'login p99, one at a time', ours: loginP99, reference: hashP99, referenceName: hash, unit: 'ms' },
    { measure: 'login p99 − hash p99', ours: overhead, reference: 5, referenceName: 'budget', unit: 'ms', goal: '≤ 1' },
    { measure: `logins/s, ${logins.concurrent} at once`, ours: logins.loginsPerSecond, reference: logins.hashesPerSecond, referenceName: `${hash}, ${logins.concurrent} at once`, unit: '/s' },
    { measure: `sweep ${sweep.sessions} expired sessions`, ours: sweep.sweepMs, reference: sweep.findDeleteMs, referenceName: 'find -delete, links only', unit: 'ms' },
    { measure: `sweep ${sweep.sessions} expired sessions`, ours: sweep.sweepMs, reference: 2000, referenceName: 'budget', unit: 'ms', goal: '≤ 1' },
    { measure: 'longest event-loop stall during sweep', ours: sweep.maxStallMs, reference: 20, referenceName: 'budget', unit: 'ms', goal: '≤ 1' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sessions = Math.floor(option('sessions', 100_000, positiveNumber('sessions')));
  const logins = Math.floor(option('logins', 60, positiveNumber('logins')));
  const sweep = await measureSweep(sessions);
  process.stdout.write(`sweep: ${sweep.removed} sessions in ${sweep.sweepMs.toFixed(0)} ms, longest stall ${sweep.maxStallMs.toFixed(1)} ms, ${sweep.linksLeft} links left\n`);
  if (sweep.removed !== sessions || sweep.linksLeft !== 0) throw new Error(`sweep removed ${sweep.removed} of ${sessions} sessions and left ${sweep.linksLeft} links`);
  const result = await measureLogins(logins, 4);
  const rows = sessionRows(sweep, result);
  await report('sessions', `Sessions: ${logins} logins (scrypt N=2^15, r=8), sweep of ${sessions} expired sessions`, rows, { sweep, logins: result });
}
