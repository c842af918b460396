import { access, constants } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { statePaths, type Config } from './config.js';
import { createApp } from './http/index.js';
import { startSweeper } from './links/index.js';
import type { Logger } from './log.js';
import { openServices, type ServiceOptions, type Services } from './services.js';
import { createRefusalsTable, isDatabaseUsable, loadOrCreateSecret } from './store/index.js';
import { createUi } from './ui/index.js';

/** Refusal counts older than this are dropped by the sweeper (`keepsake stats` looks back a day by default). */
const REFUSALS_KEPT_MS = 8 * 24 * 3600_000;

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
  const { derivatives } = services;
  const firstPassword = await ensureFirstKey(services);
  await sessionLinks.reconcile();
  await derivatives.removeStaleTemp();
  await services.syncViews();

  const scheduleViewSync = debounce(() => services.syncViews(), log, 200);
  const ahead = ['thumb', 'small'].filter((variant) => derivatives.variants.includes(variant));
  library.onChange((change) => {
    switch (change.kind) {
      case 'album-added':
      case 'album-removed':
        return scheduleViewSync();
      case 'item-added':
        if (change.item.type === 'image') derivatives.pregenerate(services.sourceOf(change.item), ahead);
        return;
      case 'item-changed':
        void derivatives.removeVersion(change.previous).catch((error: unknown) => log.warn({ err: error }, 'could not remove old derivatives'));
        if (change.item.type === 'image') derivatives.pregenerate(services.sourceOf(change.item), ahead);
        return;
      case 'item-removed':
        void derivatives.removeFor(change.item.albumPath, change.item.name).catch((error: unknown) => log.warn({ err: error }, 'could not remove derivatives'));
        return;
    }
  });

  const paths = statePaths(config);
  const cookieKeys = [loadOrCreateSecret(paths.secrets, 'cookie-key')];
  const app = createApp({
    ...services,
    cookieKeys,
    guardSecret: loadOrCreateSecret(paths.secrets, 'guard-key'),
    linkSecret: loadOrCreateSecret(paths.secrets, 'link-key'),
    refusals: createRefusalsTable(services.db),
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
  const refusals = createRefusalsTable(services.db);
  const sweeper = startSweeper(
    config.sweepInterval,
    async () => {
      await sessionLinks.sweep();
      refusals.prune(Date.now() - REFUSALS_KEPT_MS);
    },
    log.child({ module: 'sweeper' }),
  );
  // Serving starts at once; albums appear as the scan finds them. Watching starts first so
  // nothing copied in during the scan is missed.
  const ready = library
    .watch()
    .then(() => library.scan())
    .then(() => services.syncViews())
    .then(async () => {
      await derivatives.pruneOrphans((albumPath, name) => library.item(albumPath, name));
    })
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
