/**
 * The server side of the serving bench, in its own process so the load generator never
 * shares its event loop: `node --import tsx bench/serve-target.ts keepsake|accel|node`.
 *
 * - `keepsake`: the real server on the corpus, logged in, one `medium` made and cached.
 * - `accel`: the same with KEEPSAKE_ACCEL=nginx, trusting the proxy on 127.0.0.1.
 * - `flood`: `keepsake` with five keys and trusting the proxy on 127.0.0.1, so a login flood can
 *   come from many addresses (bench/login-flood.ts); its `thumb` is cached too.
 * - `node`: bare `node:http` sending a folder's `medium.webp` and `thumb.webp` from memory with no
 *   checks at all (the Node ceiling).
 *
 * Prints one JSON line (`TargetInfo`) once ready, then serves until SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { statePaths } from '../src/config.js';
import { BENCH_DIR, CORPUS_ALBUM, CORPUS_DIR, REPO_DIR, stopChild } from './common.js';
import { BENCH_GUARD, startBenchServer } from './keepsake-server.js';

export const TARGETS = ['keepsake', 'accel', 'flood', 'node'] as const;
export type Target = (typeof TARGETS)[number];

/** The photo whose `medium` every case serves. */
export const SERVED_PHOTO = 'p12-01.jpg';

export interface TargetInfo {
  readonly port: number;
  /** The URL path of the cached `medium` (under the session's token). */
  readonly mediumPath: string;
  /** The URL path of the cached `thumb`. */
  readonly thumbPath: string;
  /** The cached `thumb`'s file and its size. */
  readonly thumbFile: string;
  readonly thumbBytes: number;
  /** The Cookie header of the logged-in session. */
  readonly cookie: string;
  readonly cachedFile: string;
  readonly bytes: number;
  readonly webRoot: string;
  readonly mediaRoot: string;
  readonly cacheDir: string;
  readonly linkSecret: string;
  /** The temp folder holding the state dir (nginx must be able to walk into it). */
  readonly stateRoot: string;
}

/** Four keys besides the bench's: a login checks a password however many keys there are. */
const FLOOD_KEYS = ['grandparents', 'cousins', 'friends', 'neighbours'];

async function startKeepsake(target: 'keepsake' | 'accel' | 'flood'): Promise<{ info: TargetInfo; close: () => Promise<void> }> {
  const env: Record<string, string> = target === 'keepsake' ? {} : { KEEPSAKE_TRUST_PROXY: '127.0.0.1', ...(target === 'accel' ? { KEEPSAKE_ACCEL: 'nginx' } : {}) };
  const bench = await startBenchServer({ mediaRoot: CORPUS_DIR, env, guard: BENCH_GUARD });
  if (target === 'flood') {
    for (const label of FLOOD_KEYS) await bench.server.services.access.addKey({ label, password: `${label} password for the bench`, albums: ['*'], canDownloadOriginals: false });
  }
  await bench.idle(5 * 60_000);
  const cookie = await bench.login();
  const item = (await bench.items(CORPUS_ALBUM, cookie)).find((entry) => entry.name === SERVED_PHOTO);
  const mediumPath = item?.urls['medium'];
  const thumbPath = item?.urls['thumb'];
  if (mediumPath === undefined || thumbPath === undefined) throw new Error(`no medium or thumb URL for ${SERVED_PHOTO}`);
  const source = bench.server.services.library.item(CORPUS_ALBUM, SERVED_PHOTO);
  if (source === undefined) throw new Error(`${SERVED_PHOTO} is not in the catalogue`);
  const cachedFile = await bench.server.services.derivatives.ensure(bench.server.services.sourceOf(source), 'medium');
  const thumbFile = await bench.server.services.derivatives.ensure(bench.server.services.sourceOf(source), 'thumb');
  const paths = statePaths(bench.server.services.settings);
  return {
    info: {
      port: bench.server.port,
      mediumPath,
      thumbPath,
      thumbFile,
      thumbBytes: (await stat(thumbFile)).size,
      cookie,
      cachedFile,
      bytes: (await stat(cachedFile)).size,
      webRoot: bench.webRoot,
      mediaRoot: bench.server.services.mediaRoot,
      cacheDir: bench.cacheDir,
      linkSecret: (await readFile(path.join(paths.secrets, 'link-key'), 'utf8')).trim(),
      stateRoot: path.dirname(bench.stateDir),
    },
    close: () => bench.close(),
  };
}

/**
 * What Node itself can do: no session, no guard, no path checks; `medium.webp` and `thumb.webp`
 * of `dir` read once and sent from memory, as keepsake's fast path sends a derivative.
 */
async function startBareNode(dir: string): Promise<{ info: TargetInfo; close: () => Promise<void> }> {
  const files = new Map<string, Buffer>();
  for (const name of ['medium.webp', 'thumb.webp']) files.set(`/${name}`, await readFile(path.join(dir, name)));
  const server = http.createServer((request, response) => {
    const bytes = files.get(request.url ?? '');
    if (bytes === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'image/webp', 'content-length': bytes.length, 'cache-control': 'private, max-age=31536000, immutable' });
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const medium = path.join(dir, 'medium.webp');
  return {
    info: {
      port,
      mediumPath: '/medium.webp',
      thumbPath: '/thumb.webp',
      thumbFile: path.join(dir, 'thumb.webp'),
      thumbBytes: files.get('/thumb.webp')!.length,
      cookie: '',
      cachedFile: medium,
      bytes: files.get('/medium.webp')!.length,
      webRoot: dir,
      mediaRoot: dir,
      cacheDir: dir,
      linkSecret: '',
      stateRoot: dir,
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts a serve-target child (for another script) and waits for its JSON line. */
export async function startTarget(target: Target, extra: readonly string[] = []): Promise<{ info: TargetInfo; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'serve-target.ts'), target, ...extra], { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => stopChild(child), 5 * 60_000);
  try {
    for await (const line of lines) {
      if (line.startsWith('{')) return { info: JSON.parse(line) as TargetInfo, child };
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`serve-target ${target} ended before it was ready`);
}

export async function stopTarget(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  stopChild(child);
  await exited;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [target, dir] = process.argv.slice(2);
  if (!TARGETS.includes(target as Target)) throw new TypeError(`Expected one of ${TARGETS.join(', ')} for target but received ${JSON.stringify(target)}`);
  if (target === 'node' && dir === undefined) throw new TypeError('Expected a folder holding medium.webp and thumb.webp for target node but received nothing');
  const running = target === 'node' ? await startBareNode(dir as string) : await startKeepsake(target as 'keepsake' | 'accel' | 'flood');
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    running.close().then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    });
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
  process.stdout.write(`${JSON.stringify(running.info)}\n`);
}
