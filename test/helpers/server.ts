import { mkdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { loadSettings } from '../../src/settings.js';
import { createLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { LoginStep } from '../../src/links/index.js';
import { makeMediaRoot, tempDir } from './fixtures.js';
import { databaseFor } from './postgres.js';

export interface TestServer extends RunningServer {
  readonly stateDir: string;
  readonly mediaRoot: string;
  readonly webRoot: string;
  readonly logLines: Record<string, unknown>[];
  readonly env: Record<string, string>;
}

export interface TestServerOptions {
  /** Extra KEEPSAKE_* settings. */
  readonly env?: Record<string, string>;
  /** Reuse a state dir (restart tests); default: a new temp dir. */
  readonly stateDir?: string;
  /** Reuse a media root; default: a new one made by makeMediaRoot. */
  readonly mediaRoot?: string;
  readonly keys?: readonly { label: string; password: string; albums?: string[]; canDownloadOriginals?: boolean; expiresAt?: number }[];
  readonly afterLoginStep?: (step: LoginStep) => void;
}

/** Starts the real server in this process on an ephemeral loopback port, with its own temp dirs. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const stateDir = options.stateDir ?? (await tempDir('keepsake-state-'));
  let mediaRoot = options.mediaRoot;
  if (mediaRoot === undefined) {
    mediaRoot = await tempDir('keepsake-media-');
    await makeMediaRoot(mediaRoot);
  }
  // Under test/postgres-suites.test.ts the same tests run on the other store: a database per state dir.
  const shared = await databaseFor(stateDir);
  const env = {
    KEEPSAKE_MEDIA_ROOT: mediaRoot,
    KEEPSAKE_STATE_DIR: stateDir,
    KEEPSAKE_HOST: '127.0.0.1',
    KEEPSAKE_PORT: '0',
    KEEPSAKE_LOG_LEVEL: 'info',
    ...(shared === undefined ? {} : { KEEPSAKE_DATABASE_URL: shared }),
    ...options.env,
  };
  // The state dir doubles as the working directory: it holds no keepsake.config.json.
  await mkdir(stateDir, { recursive: true });
  const config = loadSettings(env, stateDir);
  const logLines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const server = await startServer(config, createLogger(config.logLevel, sink), options.afterLoginStep ? { afterLoginStep: options.afterLoginStep } : {});
  for (const key of options.keys ?? []) {
    await server.services.access.addKey({
      label: key.label,
      password: key.password,
      albums: key.albums ?? ['*'],
      canDownloadOriginals: key.canDownloadOriginals ?? true,
      expiresAt: key.expiresAt,
    });
  }
  await server.ready;
  await server.services.access.syncViews();
  return Object.assign(server, { stateDir, mediaRoot, webRoot: config.webRoot, logLines, env });
}
