/**
 * The real keepsake server for the HTTP benches: started in this process with startServer on
 * an ephemeral loopback port, a temp state dir and a given media root, one key added through
 * the keyring (the generated `family` key removed, so a login checks exactly one hash), and a
 * logged-in client that sends what a browser sends (the guard refuses anything else).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadSettings } from '../src/settings.js';
import { createLogger } from '../src/log.js';
import { startServer, type RunningServer } from '../src/server.js';
import { tempFolder } from './common.js';

export const BENCH_PASSWORD = 'bench-password-1234';

/** What a browser sends with every same-site request from our pages. */
export const BROWSER_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'sec-fetch-site': 'same-origin',
  accept: 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8',
};

export interface BenchServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly stateDir: string;
  readonly webRoot: string;
  readonly cacheDir: string;
  /** POST /login with the bench password; resolves to the Cookie header value. */
  login(): Promise<string>;
  get(target: string, cookie: string, extra?: Record<string, string>): Promise<{ status: number; body: Buffer; headers: Headers }>;
  /** `/api/albums/<album>`'s items with their URLs. */
  items(album: string, cookie: string): Promise<Array<{ name: string; urls: Record<string, string> }>>;
  /** Resolves once the derivative queue has nothing waiting or running. */
  idle(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface BenchServerOptions {
  readonly mediaRoot: string;
  /** Extra KEEPSAKE_* settings, e.g. `KEEPSAKE_ACCEL`. */
  readonly env?: Record<string, string>;
  /** The `guard` object of keepsake.config.json. */
  readonly guard?: Record<string, unknown>;
  readonly logLevel?: 'info' | 'warn';
}

/**
 * Media budgets raised as high as the settings allow, so a benchmark measures the cost of the
 * budget check, not its refusals (every other policy stays at its default, on).
 */
export const BENCH_GUARD = {
  rates: { perSession: { burst: 1_000_000, perSecond: 10_000 }, perAddress: { burst: 1_000_000, perSecond: 10_000 } },
} as const;

export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  const state = await tempFolder('state');
  const stateDir = path.join(state.dir, 'data');
  await mkdir(stateDir, { recursive: true });
  // The state dir doubles as the working directory, so this config file is the one read.
  await writeFile(path.join(stateDir, 'keepsake.config.json'), JSON.stringify({ guard: options.guard ?? {} }));
  const env = {
    KEEPSAKE_MEDIA_ROOT: options.mediaRoot,
    KEEPSAKE_STATE_DIR: stateDir,
    KEEPSAKE_HOST: '127.0.0.1',
    KEEPSAKE_PORT: '0',
    KEEPSAKE_LOG_LEVEL: options.logLevel ?? 'info',
    // The sweeper's schedule is not what these benches measure.
    KEEPSAKE_SWEEP_INTERVAL: '0 0 1 1 *',
    ...options.env,
  };
  const config = loadSettings(env, stateDir);
  // Log lines are written and serialised as in production, then dropped.
  const log = createLogger(config.logLevel, createWriteStream('/dev/null'));
  const server = await startServer(config, log);
  await server.services.access.addKey({ label: 'bench', password: BENCH_PASSWORD, albums: ['*'], canDownloadOriginals: true });
  await server.services.access.removeKey('family');
  await server.ready;
  await server.services.access.syncViews();
  const url = server.url.replace(/\/$/, '');

  async function get(target: string, cookie: string, extra: Record<string, string> = {}) {
    const response = await fetch(`${url}${target}`, { headers: { ...BROWSER_HEADERS, cookie, ...extra }, redirect: 'manual' });
    return { status: response.status, body: Buffer.from(await response.arrayBuffer()), headers: response.headers };
  }

  return {
    server,
    url,
    stateDir,
    webRoot: config.webRoot,
    cacheDir: server.services.cacheDir,
    login: () => login(url),
    get,
    async items(album, cookie) {
      const response = await get(`/api/albums/${encodeURIComponent(album)}`, cookie, { accept: 'application/json' });
      if (response.status !== 200) throw new Error(`/api/albums/${album} answered ${response.status}`);
      return (JSON.parse(response.body.toString()) as { items: Array<{ name: string; urls: Record<string, string> }> }).items;
    },
    async idle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const stats = server.services.derivatives.stats();
        if (stats.queued === 0 && stats.running === 0) return;
        if (Date.now() > deadline) throw new Error(`derivative queue still busy after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async close() {
      await server.close();
      await state.remove();
    },
  };
}

/** One login as a browser's form post; the Cookie header for the session it opened. */
export async function login(baseUrl: string, password = BENCH_PASSWORD): Promise<string> {
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    headers: { ...BROWSER_HEADERS, 'content-type': 'application/x-www-form-urlencoded', origin: baseUrl },
    body: new URLSearchParams({ password }).toString(),
    redirect: 'manual',
  });
  if (response.status !== 303) throw new Error(`login answered ${response.status}`);
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .filter((pair) => pair !== '' && !pair.endsWith('='))
    .join('; ');
}
