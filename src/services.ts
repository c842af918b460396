import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createAccess, type Access } from './access/index.js';
import { createKeyring } from './auth/index.js';
import { statePaths } from './config.js';
import { pictureBytes } from './decoders.js';
import { videoTools } from './ffmpeg.js';
import { createDerivatives, cutMotionVideo, isDerivativeError, videoFile, type Derivatives, type SourceImage } from './derivatives/index.js';
import { UserError } from './errors.js';
import { ROBOTS_TXT } from './guard/index.js';
import { checkImageDecodes, createLibrary, splitRelative, UnreadableImageError, type Candidate, type LibraryService, type MediaItem } from './library/index.js';
import { createSessionLinks, createViews, type LoginStep, type Views } from './links/index.js';
import type { Logger } from './log.js';
import { createReceiptRecorder, type ReceiptRecorder } from './receipts/index.js';
import { isWithin, PathRejectedError } from './paths.js';
import type { Settings } from './settings.js';
import { writeRefusalPages } from './static-server/index.js';
import {
  createLinkEventStore,
  createPostgresAccessStore,
  createSqliteAccessStore,
  loadOrCreateSecret,
  loadOrCreateSharedSecret,
  openDatabase,
  openPostgres,
  type AccessStore,
  type Db,
  type LinkEventStore,
  type PgPool,
} from './store/index.js';

/** The secrets made at first start: cookie signing, the honeypot and share links, the static server's link cookie. */
export interface Secrets {
  readonly cookieKey: string;
  readonly guardKey: string;
  readonly linkKey: string;
  /** The site-wide salt of the keys' lookup tags. */
  readonly keyTagSalt: string;
}

/** Set when KEEPSAKE_DATABASE_URL names a PostgreSQL database shared by several nodes. */
export interface SharedDatabase {
  readonly url: string;
  readonly pool: PgPool;
  /** The outbox every node's web root follows. */
  readonly linkEvents: LinkEventStore;
}

export interface Services {
  readonly settings: Settings;
  readonly log: Logger;
  /** SQLite in the state dir: the catalogue and the refusal counts (and, on one node, keys and sessions). */
  readonly db: Db;
  readonly store: AccessStore;
  readonly shared: SharedDatabase | undefined;
  readonly access: Access;
  readonly library: LibraryService;
  /** Real paths (symlinks resolved) of the folders keepsake serves from and writes to. */
  readonly mediaRoot: string;
  readonly cacheDir: string;
  readonly webRoot: string;
  readonly derivatives: Derivatives;
  /** The per-key views the token links point at. */
  readonly views: Views;
  readonly secrets: Secrets;
  /** What each session fetched, noted as media answers go out. */
  readonly receipts: ReceiptRecorder;
  /** The original behind a catalogue item, as the derivatives module wants it: its bytes, read checked. */
  sourceOf(item: MediaItem): SourceImage;
  close(): Promise<void>;
}

export class StartupError extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STARTUP_FAILED', message, options);
  }
}

async function realDirectory(label: string, directory: string, create: boolean): Promise<string> {
  try {
    if (create) await mkdir(directory, { recursive: true });
    const real = await realpath(directory);
    if (!(await stat(real)).isDirectory()) throw new Error('it is not a folder');
    return real;
  } catch (error) {
    throw new StartupError(`${label} ${directory} is not usable: ${(error as Error).message}`, { cause: error });
  }
}

export interface ServiceOptions {
  readonly afterLoginStep?: (step: LoginStep) => void;
}

const SECRET_NAMES = { cookieKey: 'cookie-key', guardKey: 'guard-key', linkKey: 'link-key', keyTagSalt: 'key-tag-salt' } as const;

function loadSecrets(secretsDir: string): Secrets {
  return {
    cookieKey: loadOrCreateSecret(secretsDir, SECRET_NAMES.cookieKey),
    guardKey: loadOrCreateSecret(secretsDir, SECRET_NAMES.guardKey),
    linkKey: loadOrCreateSecret(secretsDir, SECRET_NAMES.linkKey),
    keyTagSalt: loadOrCreateSecret(secretsDir, SECRET_NAMES.keyTagSalt),
  };
}

/** Several nodes: every secret is made once, by the first node, and read from the database by the others. */
async function loadSharedSecrets(pool: PgPool): Promise<Secrets> {
  return {
    cookieKey: await loadOrCreateSharedSecret(pool, SECRET_NAMES.cookieKey, newSecret),
    guardKey: await loadOrCreateSharedSecret(pool, SECRET_NAMES.guardKey, newSecret),
    linkKey: await loadOrCreateSharedSecret(pool, SECRET_NAMES.linkKey, newSecret),
    keyTagSalt: await loadOrCreateSharedSecret(pool, SECRET_NAMES.keyTagSalt, newSecret),
  };
}

/** A secret as the state dir's are made (secrets.ts): 32 random bytes, base64url. */
function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The static server's link secret, where this configuration keeps it (the state dir, or the
 * shared database), for `keepsake nginx-config`: every node's web server must check the cookie
 * every node signs.
 */
export async function loadLinkSecret(settings: Settings): Promise<string> {
  if (settings.databaseUrl === undefined) return loadOrCreateSecret(statePaths(settings).secrets, SECRET_NAMES.linkKey);
  const shared = await openShared(settings.databaseUrl);
  try {
    return await loadOrCreateSharedSecret(shared.pool, SECRET_NAMES.linkKey, newSecret);
  } finally {
    await shared.pool.end();
  }
}

/** The shared database, migrated; a clear start-up error when it cannot be reached. */
async function openShared(url: string): Promise<SharedDatabase> {
  try {
    const pool = await openPostgres(url);
    return { url, pool, linkEvents: createLinkEventStore(pool) };
  } catch (error) {
    throw new StartupError(`The database KEEPSAKE_DATABASE_URL (${redactedUrl(url)}) is not usable: ${(error as Error).message}`, { cause: error });
  }
}

/** A database URL fit for a log line: its password replaced. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unreadable URL';
  }
}

/** The derivative whose making proves a new photo decodes: the one its grid needs first. */
const PROOF_VARIANT = 'thumb';

/**
 * Everything but HTTP, shared by the server and the command line: the state folders, the
 * database, the access operations (keys, sessions, shares and their links and views), the media
 * catalogue and the derivatives.
 */
export async function openServices(settings: Settings, log: Logger, options: ServiceOptions = {}): Promise<Services> {
  const paths = statePaths(settings);
  const mediaRoot = await realDirectory('The media root', settings.mediaRoot, false);
  await realDirectory('The state dir', settings.stateDir, true);
  const cacheDir = await realDirectory('The cache dir', paths.cache, true);
  await realDirectory('The views dir', paths.views, true);
  const webRoot = await realDirectory('The web root', paths.webRoot, true);
  if (isWithin(mediaRoot, webRoot) || isWithin(webRoot, mediaRoot)) {
    throw new StartupError(`The web root ${webRoot} and the media root ${mediaRoot} must not contain each other`);
  }
  await writeFile(path.join(webRoot, 'robots.txt'), ROBOTS_TXT);
  await writeRefusalPages(paths.refusals);

  if (settings.databaseUrl !== undefined && settings.publish === 'review') {
    // Each node keeps its own catalogue: a release on one would not reach the others' views.
    throw new StartupError('KEEPSAKE_PUBLISH=review does not work with KEEPSAKE_DATABASE_URL yet: every node keeps its own catalogue, so `keepsake publish` on one node would not reach the others. Use KEEPSAKE_PUBLISH=open on several nodes, or review on one.');
  }
  const db = openDatabase(paths.database);
  const shared = settings.databaseUrl === undefined ? undefined : await openShared(settings.databaseUrl);
  const store = shared === undefined ? createSqliteAccessStore(db) : createPostgresAccessStore(shared.pool);
  const secrets = shared === undefined ? loadSecrets(paths.secrets) : await loadSharedSecrets(shared.pool);
  const receipts = createReceiptRecorder({ receipts: store.receipts, log: log.child({ module: 'receipts' }) });
  const derivatives = createDerivatives({
    cacheDir,
    log: log.child({ module: 'derivatives' }),
    presets: settings.presets,
    format: settings.imageFormat,
    concurrency: settings.derivativeConcurrency,
    videoTools: videoTools(),
  });
  const library = createLibrary({
    db,
    mediaRoot,
    ignoredNames: settings.ignoredNames,
    publish: settings.publish,
    log: log.child({ module: 'library' }),
    checkImage: (candidate) => proveDecodes(candidate),
    placeholderSource: (photo) => placeholderSource(photo),
  });
  // Derivatives are made only of items a request was authorised for (or of published albums, ahead
  // of time): read through the catalogue that also knows albums waiting for review, so the admin's
  // preview can see them.
  const originals = library.preview;
  /** A video's derivatives are made from one frame of it, taken from the file openOriginal checked. */
  async function readPosterFrame(item: MediaItem): Promise<Buffer> {
    const file = await originals.openOriginal(item);
    try {
      return await videoTools().posterFrame(file.handle, item.name, item.durationMs ?? 0);
    } finally {
      await file.handle.close();
    }
  }
  /** What a playable copy is made from: a video as it is, or the video appended to a Motion Photo. */
  function videoOf(item: MediaItem): Pick<SourceImage, 'openVideo'> {
    if (item.type === 'video') return { openVideo: async () => videoFile(await originals.openOriginal(item), item.name) };
    const { motionBytes } = item;
    return motionBytes === undefined ? {} : { openVideo: async () => cutMotionVideo(await originals.openOriginal(item), motionBytes) };
  }
  const sourceOf = (item: MediaItem): SourceImage => ({
    albumPath: item.albumPath,
    name: item.name,
    size: item.size,
    mtimeMs: item.mtimeMs,
    read: async () => (item.type === 'video' ? readPosterFrame(item) : pictureBytes(await originals.readOriginal(item), item.name)),
    ...videoOf(item),
  });

  /** The catalogue's item, if it is still this version of the file (else the newer one is on its way). */
  function catalogued(albumPath: string, name: string, version: { size: number; mtimeMs: number }): MediaItem | undefined {
    const item = library.item(albumPath, name);
    return item !== undefined && item.size === version.size && item.mtimeMs === version.mtimeMs ? item : undefined;
  }

  /**
   * A dropped photo is catalogued from its header at once; whether it decodes is proven by making
   * its thumbnail, in the background lane behind visitors (pre-generation has queued that very
   * job, which this joins): one decode, not two. A photo that cannot become a thumbnail is
   * dropped from the catalogue with its reason.
   */
  async function proveDecodes(candidate: Candidate): Promise<void> {
    const { albumPath, name } = splitRelative(candidate.relativePath);
    // An album waiting for review gets no derivative at all: the decode is proven without one.
    if (library.publishing.isPending(albumPath)) return derivatives.inBackground(() => checkImageDecodes(candidate.file));
    const item = catalogued(albumPath, name, candidate);
    if (item === undefined) return;
    if (!derivatives.variants.includes(PROOF_VARIANT)) return derivatives.inBackground(() => checkImageDecodes(candidate.file));
    try {
      await derivatives.ensure(sourceOf(item), PROOF_VARIANT, 'background');
    } catch (error) {
      // A file that cannot be decoded, not one whose path failed its check (a link swapped in: the watcher sees to that).
      if ((isDerivativeError(error, 'UNREADABLE_SOURCE') && !(error.cause instanceof PathRejectedError)) || isDerivativeError(error, 'TIMEOUT')) {
        throw new UnreadableImageError('unreadable-image', error.message, { cause: error });
      }
      throw error;
    }
  }
  /**
   * A photo's placeholder is taken from its smallest whole-photo derivative (`small`: the square
   * `thumb` is cropped, a placeholder has the photo's shape), in the lane where pre-generation
   * queues that very job, which this joins: one decode, not two, and never ahead of a grid's thumbnails.
   */
  const placeholderVariant = derivatives.variants.find((variant) => derivatives.presetOf(variant)?.fit === 'inside');
  async function placeholderSource(photo: { albumPath: string; name: string; size: number; mtimeMs: number }): Promise<{ bytes: Buffer; name: string } | undefined> {
    if (placeholderVariant === undefined || library.publishing.isPending(photo.albumPath)) return undefined;
    const item = catalogued(photo.albumPath, photo.name, photo);
    if (item?.type !== 'image') return undefined;
    const file = await derivatives.ensure(sourceOf(item), placeholderVariant, 'later');
    return { bytes: await readFile(file), name: path.basename(file) };
  }
  const views = createViews({ viewsDir: paths.views, mediaRoot, cacheDir, derivativeVariants: derivatives.servedVariants, reviewGate: settings.publish === 'review', log: log.child({ module: 'views' }) });
  const sessionLinks = createSessionLinks({
    sessions: store.sessions,
    views,
    webRoot,
    log: log.child({ module: 'links' }),
    ...(options.afterLoginStep ? { afterLoginStep: options.afterLoginStep } : {}),
  });
  const access = createAccess({
    store,
    keyring: createKeyring(store.keys, { tagSalt: secrets.keyTagSalt }),
    sessionLinks,
    views,
    albums: () => library.albums(),
    previewAlbums: () => library.preview.albums(),
    shareSecret: secrets.guardKey,
    ttl: { session: settings.sessionTtlMs, remember: settings.rememberTtlMs, device: settings.deviceTtlMs },
    log: log.child({ module: 'access' }),
  });

  return {
    settings,
    log,
    db,
    store,
    shared,
    access,
    library,
    mediaRoot,
    cacheDir,
    webRoot,
    derivatives,
    views,
    secrets,
    receipts,
    sourceOf,
    async close() {
      await library.close();
      await derivatives.close();
      await receipts.close();
      await store.close();
      db.close();
      await shared?.pool.end();
    },
  };
}
