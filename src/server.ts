import { readFileSync } from 'node:fs';
import { access as fsAccess, constants, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { heicDecoder } from './decoders.js';
import { videoTools } from './ffmpeg.js';
import { hasDerivatives, hasPlayableCopy, PLAYABLE } from './media-contract.js';
import { answerClientError, createRequestHandler } from './http/index.js';
import { createLinkFollower, createSharedCatalogue, startCatalogueSync, startLeadership, type CatalogueSync, type Leadership, type LinkFollower } from './cluster/index.js';
import { sharedCounters } from './guard/index.js';
import { startSweeper, sweepIntervalMs } from './links/index.js';
import type { Logger } from './log.js';
import type { MediaItem } from './library/index.js';
import { openServices, StartupError, type ServiceOptions, type Services, type SharedDatabase } from './services.js';
import type { Settings } from './settings.js';
import { createClient, createRefusalsTable, isDatabaseUsable, isPostgresUsable, pruneSharedCounters } from './store/index.js';
import { createUi } from './ui/index.js';

/**
 * Slow and idle clients are cut off: a client that sends half its headers (slowloris) is closed
 * after `headersTimeout`, checked every `connectionsCheckingInterval` (Node's default checks only
 * every 30 s); a request body must arrive within `requestTimeout` (keepsake takes only small
 * forms); an idle kept-alive connection is closed after `keepAliveTimeout`. Answers themselves
 * (a video streaming for an hour) are not limited.
 */
const CONNECTION_LIMITS: http.ServerOptions = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 2_000,
};

/** The soft limit of open files, from /proc (Linux); 1024, the usual default, where it cannot be read. */
function openFileLimit(): number {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match === null ? 1024 : Number(match[1]);
  } catch {
    return 1024;
  }
}

/**
 * Connections accepted at once: below the descriptor limit with room for what else needs one
 * (SQLite, the media files being sent, sharp's reads, the watcher). Past it, new connections are
 * closed at once rather than leaving keepsake unable to open a photo.
 */
function maxConnections(log: Logger): number {
  const limit = openFileLimit();
  const connections = Math.max(64, Math.min(10_000, limit - Math.max(256, Math.floor(limit / 4))));
  log.debug({ openFileLimit: limit, maxConnections: connections }, 'connection limit');
  return connections;
}

/** Outbox events older than this are dropped: a node away longer reconciles from a snapshot anyway. */
const LINK_EVENTS_KEPT_MS = 3600_000;

interface Cluster {
  readonly follower: LinkFollower;
  readonly leadership: Leadership;
  readonly catalogue: CatalogueSync;
  /** Settles when this node's catalogue is whole: scanned, if it leads; copied from the database, if not. */
  readonly catalogueReady: Promise<void>;
}

/**
 * Several nodes: this node's web root follows the shared database (and stops serving when it
 * cannot reach it for longer than a sweep interval), and one node at a time leads: it watches and
 * scans the media root, sends its catalogue to the database (the others copy it) and runs the sweep.
 */
async function joinCluster(services: Services, shared: SharedDatabase, settings: Settings, log: Logger): Promise<Cluster> {
  const { library } = services;
  const clusterLog = log.child({ module: 'cluster' });
  const connect = () => createClient(shared.url);
  let scanned: Promise<void> = Promise.resolve();
  const leadership = startLeadership({
    connect,
    log: clusterLog,
    onChange: (leads) => {
      // The new leader watches, then scans (whatever changed while nobody watched is found), then
      // sends whatever of its catalogue the database lacks.
      if (leads) {
        scanned = library.watch().then(async () => void (await library.scan()));
        void scanned.then(() => catalogue.resync()).catch((error: unknown) => clusterLog.error({ err: error }, 'could not scan the media root and send the catalogue'));
      } else void library.unwatch().catch((error: unknown) => clusterLog.error({ err: error }, 'could not stop watching'));
    },
  });
  const catalogue = startCatalogueSync({ library, shared: createSharedCatalogue(shared.pool), isLeader: leadership.isLeader, scanned: () => scanned, log: clusterLog });
  let connected!: () => void;
  const firstConnect = new Promise<void>((resolve) => (connected = resolve));
  const follower = createLinkFollower({
    connect,
    events: shared.linkEvents,
    webRoot: services.webRoot,
    views: services.views,
    syncViews: () => services.access.syncViews(),
    failClosedAfterMs: sweepIntervalMs(settings.sweepInterval),
    catalogueChanged: (paths) => catalogue.changed(paths),
    // Events were missed while away: the catalogue is compared whole (the leader's only once it has scanned).
    onConnected: () => catalogue.resync().finally(connected),
    log: clusterLog,
  });
  await follower.start();
  await leadership.decided;
  const catalogueReady = leadership.isLeader() ? scanned : firstConnect;
  return { follower, leadership, catalogue, catalogueReady };
}

/** A folder (not a file put in its place) this process may use so: access() alone passes any path for root. */
async function isUsableFolder(folder: string, mode: number): Promise<boolean> {
  try {
    if (!(await stat(folder)).isDirectory()) return false;
    await fsAccess(folder, mode);
    return true;
  } catch {
    return false;
  }
}

const LISTEN_PROBLEMS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use (is keepsake running already?)',
  EACCES: 'permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'this machine has no such address',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be looked up',
};

/** Why the server could not listen, in one line that names the settings. */
function listenError(settings: Pick<Settings, 'host' | 'port'>, error: unknown): StartupError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const problem = LISTEN_PROBLEMS[code] ?? (error as Error).message;
  return new StartupError(`cannot listen on ${settings.host}:${settings.port} (KEEPSAKE_HOST, KEEPSAKE_PORT): ${problem}`, { cause: error });
}

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
export async function startServer(settings: Settings, log: Logger, options: ServiceOptions = {}): Promise<RunningServer> {
  const services = await openServices(settings, log, options);
  const { library, access, derivatives } = services;
  log.info({ mediaRoot: services.mediaRoot, stateDir: settings.stateDir }, 'starting');
  log.info(`HEIC photos are decoded by ${heicDecoder().name}`);
  const missingVideoTools = videoTools().missing;
  if (missingVideoTools !== undefined) log.warn(missingVideoTools);
  const { shared } = services;
  // One node: leftovers of a crash go before listening. Several: the web root is made to match the shared database.
  const cluster = shared === undefined ? undefined : await joinCluster(services, shared, settings, log);
  if (cluster === undefined) await access.reconcile();
  await derivatives.removeStaleTemp();
  await access.syncViews();

  const scheduleViewSync = debounce(() => access.syncViews(), log, 200);
  // A photo's on their own jobs: a thumbnail decodes at 1/8 scale and the grid of a dropped album
  // needs only those, so every thumbnail comes before any `small` (1/4 scale, for the viewer).
  // A video's both come from one frame, which costs an ffmpeg run: one job takes it once. A
  // playable copy (of a video, or a Motion Photo's motion) waits in the copies' own queue.
  const pregenerate = (item: MediaItem): void => {
    // An album waiting for review gets none until it is published (then on demand).
    if (library.publishing.isPending(item.albumPath)) return;
    const early = ['thumb', 'small'].filter((variant) => derivatives.variants.includes(variant));
    if (hasPlayableCopy(item) && derivatives.servedVariants.includes(PLAYABLE)) derivatives.pregenerate(services.sourceOf(item), [PLAYABLE], 'later');
    if (item.type === 'video') {
      if (early.length > 0) derivatives.pregenerate(services.sourceOf(item), early, 'background');
      return;
    }
    if (early.includes('thumb')) derivatives.pregenerate(services.sourceOf(item), ['thumb'], 'background');
    if (early.includes('small')) derivatives.pregenerate(services.sourceOf(item), ['small'], 'later');
  };
  library.onChange((change) => {
    switch (change.kind) {
      case 'album-added':
      case 'album-removed':
      case 'album-moved':
        return scheduleViewSync();
      case 'item-added':
        if (hasDerivatives(change.item)) pregenerate(change.item);
        return;
      case 'item-changed':
        void derivatives.removeVersion(change.previous).catch((error: unknown) => log.warn({ err: error }, 'could not remove old derivatives'));
        if (hasDerivatives(change.item)) pregenerate(change.item);
        return;
      case 'item-removed':
        void derivatives.removeFor(change.item.albumPath, change.item.name).catch((error: unknown) => log.warn({ err: error }, 'could not remove derivatives'));
        return;
    }
  });

  const refusals = createRefusalsTable(services.db);
  const handler = createRequestHandler({
    config: settings,
    guard: settings.guard,
    trustProxy: settings.trustProxy,
    log,
    access,
    library,
    derivatives,
    sourceOf: services.sourceOf,
    ui: createUi(),
    mediaRoot: services.mediaRoot,
    cacheDir: services.cacheDir,
    refusals,
    secrets: services.secrets,
    receipts: services.receipts,
    ...(shared === undefined ? {} : { counters: sharedCounters(shared.pool) }),
    ...(cluster === undefined ? {} : { isServing: cluster.follower.isServing }),
    isHealthy: async () => {
      if (!isDatabaseUsable(services.db)) return false;
      if (shared !== undefined && !(cluster!.follower.isServing() && (await isPostgresUsable(shared.pool)))) return false;
      return Promise.all([
        isUsableFolder(services.mediaRoot, constants.R_OK),
        isUsableFolder(services.webRoot, constants.W_OK),
        isUsableFolder(services.cacheDir, constants.W_OK),
      ]).then((usable) => usable.every(Boolean));
    },
  });
  /** The cluster's work, then the services and the database: last on the way out, whichever way out. */
  const stopBackground = async (): Promise<void> => {
    await cluster?.catalogue.stop();
    await cluster?.leadership.stop();
    await cluster?.follower.stop();
    await services.close();
  };
  const server = http.createServer(CONNECTION_LIMITS, handler);
  server.on('clientError', answerClientError);
  server.maxConnections = maxConnections(log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  }).catch(async (error: unknown) => {
    await stopBackground();
    throw listenError(settings, error);
  });
  const port = (server.address() as AddressInfo).port;
  // Made once keepsake listens: a first start that cannot listen leaves the key to the start that can, which shows its password.
  const firstPassword = await access.ensureFirstKey();
  const sweeper = startSweeper(
    settings.sweepInterval,
    async () => {
      // Every node checks its own web root; the shared rows are swept by one node at a time.
      await cluster?.follower.reconcile();
      refusals.prune(Date.now() - REFUSALS_KEPT_MS);
      if (cluster !== undefined && !cluster.leadership.isLeader()) return;
      await access.sweep();
      await services.store.receipts.prune(Date.now() - settings.receiptsKeptMs);
      if (shared !== undefined) {
        await shared.linkEvents.prune(Date.now() - LINK_EVENTS_KEPT_MS);
        await pruneSharedCounters(shared.pool, Date.now());
      }
    },
    log.child({ module: 'sweeper' }),
  );
  // Serving starts at once; albums appear as the scan finds them. Watching starts first so
  // nothing copied in during the scan is missed. Of several nodes, only the leader watches.
  // Of several nodes, the leader scans (joinCluster) and the others copy its catalogue.
  const ready = (cluster === undefined ? library.watch().then(() => library.scan()) : cluster.catalogueReady)
    .then(() => access.syncViews())
    .then(async () => {
      await derivatives.pruneOrphans((albumPath, name) => library.item(albumPath, name));
    })
    .catch((error: unknown) => log.error({ err: error }, 'catalogue scan failed'));

  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
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
        await stopBackground();
      })();
      return closing;
    },
  };
}
