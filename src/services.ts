import { mkdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createKeyring, type Keyring } from './auth/index.js';
import { statePaths, type Config } from './config.js';
import { createDerivatives, type Derivatives, type DerivativesOptions } from './derivatives/index.js';
import { createLibrary, type LibraryService, type MediaItem } from './library/index.js';
import { createSessionLinks, createViews, syncGrantViews, type LoginStep, type SessionLinks, type Views } from './links/index.js';
import { ROBOTS_TXT } from './guard/index.js';
import type { Logger } from './log.js';
import { createKeysTable, createSessionsTable, createSharesTable, openDatabase, type Db, type SessionsTable, type SharesTable } from './store/index.js';

export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly db: Db;
  readonly keyring: Keyring;
  readonly sessions: SessionsTable;
  readonly shares: SharesTable;
  readonly views: Views;
  readonly sessionLinks: SessionLinks;
  readonly library: LibraryService;
  /** Real paths (symlinks resolved) of the folders keepsake serves from. */
  readonly mediaRoot: string;
  readonly cacheDir: string;
  readonly derivatives: Derivatives;
  readonly derivativeVariants: readonly string[];
  /** The original behind a catalogue item, as the derivatives module wants it. */
  sourceOf(item: MediaItem): { absolutePath: string; albumPath: string; name: string; size: number; mtimeMs: number };
  /** Brings every key's view in line with the current albums. */
  syncViews(): Promise<void>;
  close(): Promise<void>;
}

export class StartupError extends Error {
  readonly code = 'STARTUP_FAILED';
}

async function realDirectory(label: string, directory: string, create: boolean): Promise<string> {
  try {
    if (create) await mkdir(directory, { recursive: true });
    return await realpath(directory);
  } catch (error) {
    throw new StartupError(`${label} ${directory} is not usable: ${(error as Error).message}`, { cause: error });
  }
}

export interface ServiceOptions {
  readonly afterLoginStep?: (step: LoginStep) => void;
}

/**
 * Everything but HTTP, shared by the server and the command line: the state folders, the
 * database, keys, sessions and their links, the per-key views and the media catalogue.
 */
export async function openServices(config: Config, log: Logger, options: ServiceOptions = {}): Promise<Services> {
  const paths = statePaths(config);
  const mediaRoot = await realDirectory('The media root', config.mediaRoot, false);
  await realDirectory('The state dir', config.stateDir, true);
  const cacheDir = await realDirectory('The cache dir', paths.cache, true);
  await realDirectory('The views dir', paths.views, true);
  const webRoot = await realDirectory('The web root', paths.webRoot, true);
  if (webRoot.startsWith(mediaRoot + path.sep) || mediaRoot.startsWith(webRoot + path.sep) || webRoot === mediaRoot) {
    throw new StartupError(`The web root ${webRoot} and the media root ${mediaRoot} must not contain each other`);
  }
  await writeFile(path.join(webRoot, 'robots.txt'), ROBOTS_TXT);

  const db = openDatabase(paths.database);
  const keyring = createKeyring(createKeysTable(db));
  const sessions = createSessionsTable(db);
  const shares = createSharesTable(db);
  const views = createViews({ viewsDir: paths.views, mediaRoot, cacheDir, log: log.child({ module: 'views' }) });
  const sessionLinks = createSessionLinks({
    sessions,
    views,
    webRoot,
    log: log.child({ module: 'links' }),
    ...(options.afterLoginStep ? { afterLoginStep: options.afterLoginStep } : {}),
  });
  const library = createLibrary({ db, mediaRoot, log: log.child({ module: 'library' }) });
  let derivatives: Derivatives;
  try {
    derivatives = createDerivatives({
      cacheDir,
      log: log.child({ module: 'derivatives' }),
      presets: config.presets as DerivativesOptions['presets'],
      format: config.imageFormat,
      concurrency: config.derivativeConcurrency,
    });
  } catch (error) {
    throw new StartupError(`Invalid setting "presets" in the config file: ${(error as Error).message}`, { cause: error });
  }
  const derivativeVariants = derivatives.variants;
  // Syncs run one after another: two at once would each see the other's half-placed links.
  let viewSync: Promise<void> = Promise.resolve();

  return {
    config,
    log,
    db,
    keyring,
    sessions,
    shares,
    views,
    sessionLinks,
    library,
    mediaRoot,
    cacheDir,
    derivatives,
    derivativeVariants,
    sourceOf: (item) => ({ ...item, absolutePath: path.join(mediaRoot, ...item.albumPath.split('/'), item.name) }),
    syncViews() {
      viewSync = viewSync
        .catch(() => undefined)
        .then(() => {
          const now = Date.now();
          const open = shares.all().filter((share) => share.revokedAt === null && share.expiresAt > now);
          return syncGrantViews(views, { keys: keyring.list(), shares: open }, library.albumPaths(), ['video', ...derivativeVariants]);
        });
      return viewSync;
    },
    async close() {
      await library.close();
      await derivatives.close();
      db.close();
    },
  };
}
