import { access, constants } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { statePaths, type Config } from './config.js';
import { createApp } from './http/index.js';
import { startSweeper } from './links/index.js';
import type { Logger } from './log.js';
import { openServices, type ServiceOptions, type Services } from './services.js';
import { isDatabaseUsable, loadOrCreateSecret } from './store/index.js';
import { createUi } from './ui/index.js';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  /** Set when this start made the first key: its password, to be shown once. */
  readonly firstPassword: string | undefined;
  /** Settles when the first catalogue scan is done, the views match it and the watcher runs. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

async function ensureFirstKey(services: Services): Promise<string | undefined> {
  if (services.keyring.count() > 0) return undefined;
  const { password } = await services.keyring.add({ label: 'family', albums: ['*'], canDownloadOriginals: true });
  return password;
}

function debounce(action: () => Promise<void>, log: Logger, waitMs: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(() => action().catch((error: unknown) => log.error({ err: error }, 'view sync failed')), waitMs);
  };
}

/**
 * Wires and starts keepsake: services, start-up reconcile (before listening, so no orphan
 * link is ever served), the HTTP server, the sweeper, the catalogue scan and watcher.
 */
export async function startServer(config: Config, log: Logger, options: ServiceOptions = {}): Promise<RunningServer> {
  const services = await openServices(config, log, options);
  const { library, sessionLinks } = services;
  const firstPassword = await ensureFirstKey(services);
  await sessionLinks.reconcile();
  await services.syncViews();

  const scheduleViewSync = debounce(() => services.syncViews(), log, 200);
  library.onChange((change) => {
    if (change.kind === 'album-added' || change.kind === 'album-removed') scheduleViewSync();
  });

  const cookieKeys = [loadOrCreateSecret(statePaths(config).secrets, 'cookie-key')];
  const paths = statePaths(config);
  const app = createApp({
    ...services,
    cookieKeys,
    ui: createUi(),
    isHealthy: async () => {
      if (!isDatabaseUsable(services.db)) return false;
      return Promise.all([
        access(services.mediaRoot, constants.R_OK),
        access(paths.webRoot, constants.W_OK),
        access(services.cacheDir, constants.W_OK),
      ]).then(() => true, () => false);
    },
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const sweeper = startSweeper(config.sweepInterval, () => sessionLinks.sweep(), log.child({ module: 'sweeper' }));
  // Serving starts at once; albums appear as the scan finds them. Watching starts first so
  // nothing copied in during the scan is missed.
  const ready = library
    .watch()
    .then(() => library.scan())
    .then(() => services.syncViews())
    .catch((error: unknown) => log.error({ err: error }, 'catalogue scan failed'));

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/`,
    port,
    services,
    firstPassword,
    ready,
    close() {
      closing ??= (async () => {
        await ready;
        // Stop accepting, let requests in flight finish, then stop background work and the database.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        await sweeper.stop();
        await services.close();
      })();
      return closing;
    },
  };
}
