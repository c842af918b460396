import path from 'node:path';
import type { VideoTools } from '../ffmpeg.js';
import { isPlainSegment, PLAYABLE } from '../media-contract.js';
import { createAtomicWriter, isRegularFile, sweepAlbum, sweepCache } from './cache-files.js';
import type { CacheEntry } from './cache-files.js';
import { DerivativeError, isDerivativeError, sourceErrorFrom } from './errors.js';
import type { DerivativeErrorCode } from './errors.js';
import type { OutputFormat } from './formats.js';
import type { ParsedLeaf, SourceIdentity } from './naming.js';
import {
  TEMP_PREFIX,
  cacheFilePath,
  derivativeHash,
  fitsFileSystem,
  isAlbumPath,
  leafName,
  parseLeaf,
} from './naming.js';
import type { DerivativesOptions } from './options.js';
import { normaliseOptions } from './options.js';
import { createPlayableCopies, type VideoSource } from './playable-copies.js';
import { decodeBase, encodeVariant, readShape } from './pipeline.js';
import type { Preset } from './presets.js';
import { baseSizeFor, invalidParameter, variantOutputSize } from './presets.js';
import type { Deferred, Priority } from './queue.js';
import { PRIORITIES, createDeferred, createFlights, createWorkQueue, runWithDeadline } from './queue.js';

/** One original, as the catalogue knows it. */
export interface SourceImage extends SourceIdentity {
  /**
   * The original's bytes, read from a file whose real place was checked after it was opened:
   * sharp is never handed a name that could be swapped for a link in the meantime. For a video,
   * the bytes of its poster frame.
   */
  read(): Promise<Buffer>;
  /** For a video: a descriptor of it, checked after it was opened, for its playable copy. */
  readonly openVideo?: VideoSource['openVideo'];
}

export interface DerivativeStats {
  /** Images waiting for a slot. */
  readonly queued: number;
  /** Images being made now. */
  readonly running: number;
  /** Derivative files written. */
  readonly made: number;
  /** Images that failed (once per image, however many waited for it). */
  readonly failed: number;
  /** Originals decoded: one per image, however many variants it gave. */
  readonly decodes: number;
}

/** Finds the catalogue's current version of an original, or undefined when it is gone. */
export type SourceLookup = (albumPath: string, sourceName: string) => SourceIdentity | undefined;

export interface Derivatives {
  /** Configured variant names (the picture presets), smallest first for the defaults. */
  readonly variants: readonly string[];
  /** Every derivative variant made: the presets, and `playable` (video copies) where ffmpeg is. */
  readonly servedVariants: readonly string[];
  readonly format: OutputFormat;
  readonly cacheDir: string;
  presetOf(variant: string): Preset | undefined;
  /** The URL leaf and cache file name of one variant of one version of an original. */
  leafFor(source: SourceIdentity, variant: string): string;
  /** The inverse of leafFor's naming (the module's pure `parseLeaf`, here for callers holding only this object). */
  parseLeaf(leaf: string): ParsedLeaf | undefined;
  /** `<cacheDir>/<variant>/<albumPath>/<leaf>`, checked to stay inside the cache. */
  cachePathFor(albumPath: string, variant: string, leaf: string): string;
  /**
   * The cached file's absolute path, made first when missing. Rejects with a DerivativeError.
   * `owner` (the visitor's session) shares the queue fairly between visitors.
   */
  ensure(source: SourceImage, variant: string, priority?: Priority, owner?: string): Promise<string>;
  /** Several variants from one decode; resolves to variant → absolute path. */
  ensureAll(
    source: SourceImage,
    variants?: readonly string[],
    priority?: Priority,
    owner?: string,
  ): Promise<Readonly<Record<string, string>>>;
  /** Queues variants behind on-demand work; never rejects (failures are logged once). */
  pregenerate(source: SourceImage, variants?: readonly string[], priority?: 'background' | 'later'): void;
  /**
   * Runs other image work (the catalogue's decode checks) in the queue's background lane, so it
   * shares the CPU budget and always yields to a visitor waiting for a derivative.
   */
  inBackground<T>(work: () => Promise<T>): Promise<T>;
  /** Deletes every derivative of one original (all variants, any hash): the original is gone. */
  removeFor(albumPath: string, sourceName: string): Promise<number>;
  /**
   * Deletes the derivatives of exactly one version of an original (every configured variant):
   * for a changed original, pass the previous version; the new one's files are untouched.
   */
  removeVersion(source: SourceIdentity): Promise<number>;
  /** Deletes derivatives whose original is gone, whose settings changed or whose variant was removed. */
  pruneOrphans(lookup: SourceLookup): Promise<number>;
  /** Deletes `.tmp-*` files left by a crash (never one being written now). */
  removeStaleTemp(): Promise<number>;
  stats(): DerivativeStats;
  /** Cancels waiting background work, lets on-demand and running work finish. */
  close(): Promise<void>;
}

/** A broken photo is the admin's to look at (warn); a full disk or failing writes need action now (error). */
const LOG_LEVELS: Readonly<Record<DerivativeErrorCode, 'debug' | 'warn' | 'error'>> = {
  UNREADABLE_SOURCE: 'warn',
  SOURCE_MISSING: 'warn',
  UNKNOWN_VARIANT: 'warn',
  TIMEOUT: 'warn',
  NO_SPACE: 'error',
  WRITE_FAILED: 'error',
  CLOSED: 'debug',
};

interface Target {
  readonly variant: string;
  readonly preset: Preset;
  readonly file: string;
  readonly made: Deferred<string>;
}

/**
 * Every derivative variant keepsake makes: the picture presets, and `playable` where ffmpeg is.
 * The one answer for keepsake's routes and views and for the generated server configurations.
 */
export function servedVariantsOf(presetVariants: readonly string[], videoTools: VideoTools | undefined): readonly string[] {
  return Object.freeze(videoTools === undefined || videoTools.missing !== undefined ? [...presetVariants] : [...presetVariants, PLAYABLE]);
}

export function createDerivatives(options: DerivativesOptions): Derivatives {
  const settings = normaliseOptions(options);
  const { cacheDir, encoder, log, limits } = settings;
  const queue = createWorkQueue(settings.concurrency);
  const writer = createAtomicWriter(settings.writeFile);
  const flights = createFlights<string, { promote(): void }>();
  const logged = new WeakSet<Error>();
  const counters = { made: 0, failed: 0, decodes: 0 };
  const copies = settings.videoTools === undefined ? undefined : createPlayableCopies({ tools: settings.videoTools, writer, log });
  const servedVariants = servedVariantsOf(settings.variants, settings.videoTools);
  let closed = false;

  function presetFor(variant: string): Preset {
    const preset = settings.presets.get(variant);
    if (preset === undefined) throw new DerivativeError('UNKNOWN_VARIANT', `no variant named ${JSON.stringify(variant)}`);
    return preset;
  }

  // Every page and media request names leaves: the hash behind one is worked out once.
  const leaves = new Map<string, string>();
  const LEAVES_KEPT = 50_000;
  function leafFor(source: SourceIdentity, variant: string): string {
    const key = `${variant}\0${source.albumPath}\0${source.name}\0${source.size}\0${source.mtimeMs}`;
    let leaf = leaves.get(key);
    if (leaf === undefined) {
      leaf = variant === PLAYABLE && copies !== undefined ? copies.leafFor(source) : leafName(source, derivativeHash(source, presetFor(variant), encoder), encoder.extension);
      if (leaves.size >= LEAVES_KEPT) leaves.clear();
      leaves.set(key, leaf);
    }
    return leaf;
  }

  function cachePathFor(albumPath: string, variant: string, leaf: string): string {
    return cacheFilePath(cacheDir, variant, albumPath, leaf);
  }

  function fileFor(source: SourceIdentity, variant: string): string {
    const leaf = leafFor(source, variant);
    if (!fitsFileSystem(leaf)) {
      throw new DerivativeError('UNREADABLE_SOURCE', `${describe(source)}: name too long for a cache file`);
    }
    return cachePathFor(source.albumPath, variant, leaf);
  }

  async function ensureAll(
    source: SourceImage,
    variants: readonly string[] = settings.variants,
    priority: Priority = 'now',
    owner?: string,
  ): Promise<Readonly<Record<string, string>>> {
    if (closed) throw new DerivativeError('CLOSED', 'derivatives are shutting down');
    if (!PRIORITIES.includes(priority)) throw invalidParameter('priority', PRIORITIES.join(' or '), priority);
    const files = new Map(variants.map((variant) => [variant, fileFor(source, variant)]));
    const results = new Map<string, Promise<string>>();
    const join = (variant: string, file: string): boolean => {
      const flight = flights.get(file);
      if (flight === undefined) return false;
      if (priority === 'now') flight.extra.promote();
      results.set(variant, flight.promise);
      return true;
    };
    const unknown = [...files].filter(([variant, file]) => !join(variant, file));
    const present = await Promise.all(unknown.map(([, file]) => isRegularFile(file)));
    const missing: Array<[string, string]> = [];
    unknown.forEach(([variant, file], index) => {
      if (present[index] === true) results.set(variant, Promise.resolve(file));
      // Someone may have started it while we looked.
      else if (!join(variant, file)) missing.push([variant, file]);
    });
    const pictures = missing.filter(([variant]) => variant !== PLAYABLE);
    if (pictures.length > 0) {
      for (const target of startJob(source, pictures, priority, owner)) results.set(target.variant, target.made.promise);
    }
    const copy = missing.find(([variant]) => variant === PLAYABLE);
    if (copy !== undefined) results.set(PLAYABLE, startCopy(source, copy[1], priority, owner));
    const entries = await Promise.all([...results].map(async ([variant, made]) => [variant, await made] as const));
    return Object.freeze(Object.fromEntries(entries));
  }

  function startJob(source: SourceImage, missing: ReadonlyArray<[string, string]>, priority: Priority, owner: string | undefined): Target[] {
    const targets = missing.map(([variant, file]) => ({
      variant,
      file,
      preset: presetFor(variant),
      made: createDeferred<string>(),
    }));
    const task = queue.push(() => withTimeLimit(source, targets), priority, owner);
    // Whether a visitor waits on the job: one who joins it later promotes it.
    let visitorWaits = priority === 'now';
    const promote = () => {
      visitorWaits = true;
      task.promote();
    };
    for (const target of targets) flights.set(target.file, target.made.promise, { promote });
    task.promise.then(
      () => fail(source, targets, new DerivativeError('WRITE_FAILED', 'job ended without writing every variant'), visitorWaits),
      (error: unknown) => fail(source, targets, error, visitorWaits),
    );
    return targets;
  }

  /** A video's playable copy, in the copies' own queue; one log line when it fails. */
  function startCopy(source: SourceImage, file: string, priority: Priority, owner: string | undefined): Promise<string> {
    const { openVideo } = source;
    if (copies === undefined || openVideo === undefined) throw new DerivativeError('UNKNOWN_VARIANT', `no playable copy of ${describe(source)}`);
    const task = copies.make({ ...source, openVideo }, file, priority, owner);
    flights.set(file, task.promise, { promote: task.promote });
    task.promise.catch((error: unknown) => {
      const failure = isDerivativeError(error) ? error : sourceErrorFrom(error, describe(source));
      counters.failed += 1;
      logged.add(failure);
      log[LOG_LEVELS[failure.code]]({ album: source.albumPath, name: source.name, variants: [PLAYABLE], code: failure.code, reason: failure.message }, 'derivative not made');
    });
    return task.promise;
  }

  /**
   * The per-image time limit. sharp's own timer only runs while libvips pulls pixels (it does
   * not stop an AVIF encode, for one), so this timer is the authority: waiters get TIMEOUT at
   * the limit, the queue slot is freed, and the abandoned work stops before writing anything.
   */
  function withTimeLimit(source: SourceImage, targets: readonly Target[]): Promise<void> {
    return runWithDeadline(
      settings.timeLimitMs,
      () => new DerivativeError('TIMEOUT', `${describe(source)} took longer than ${settings.timeLimitMs} ms`),
      (signal) => make(source, targets, signal),
      (error) => log.debug({ album: source.albumPath, name: source.name, err: error }, 'abandoned work ended after its time limit'),
    );
  }

  /**
   * Settles every waiter still waiting with the same error, and says so in one log line. A photo
   * that does not decode in background work (pre-generation, a placeholder, the catalogue's decode
   * check) is the catalogue's to report, once, as it drops the photo: here it is only a debug line.
   */
  function fail(source: SourceImage, targets: readonly Target[], error: unknown, visitorWaits: boolean): void {
    const waiting = targets.filter((target) => !target.made.settled);
    if (waiting.length === 0) return;
    const failure = isDerivativeError(error) ? error : sourceErrorFrom(error, describe(source));
    counters.failed += 1;
    logged.add(failure);
    const catalogueReports = !visitorWaits && (failure.code === 'UNREADABLE_SOURCE' || failure.code === 'TIMEOUT');
    log[catalogueReports ? 'debug' : LOG_LEVELS[failure.code]](
      { album: source.albumPath, name: source.name, variants: waiting.map((t) => t.variant), code: failure.code, reason: failure.message },
      'derivative not made',
    );
    for (const target of waiting) target.made.reject(failure);
  }

  /** One decode, then each variant (smallest first, so thumbnails are ready soonest), each written atomically. */
  async function make(source: SourceImage, targets: readonly Target[], signal: AbortSignal): Promise<void> {
    const what = describe(source);
    const read = <T>(step: Promise<T>): Promise<T> =>
      step.catch((error: unknown) => {
        throw sourceErrorFrom(error, what);
      });
    const bytes = await read(source.read());
    signal.throwIfAborted();
    const shape = await read(readShape(bytes, limits));
    const plans = targets.map((target) => ({
      target,
      preset: target.preset,
      size: variantOutputSize(shape.width, shape.height, target.preset),
    }));
    plans.sort((a, b) => a.size.width * a.size.height - b.size.width * b.size.height);
    signal.throwIfAborted();
    counters.decodes += 1;
    const baseSize = baseSizeFor(shape.width, shape.height, plans.map((plan) => plan.size));
    const base = await read(decodeBase(bytes, shape, baseSize, limits));
    for (const plan of plans) {
      signal.throwIfAborted();
      const bytes = await read(encodeVariant(base, plan, encoder, limits));
      signal.throwIfAborted();
      await writer.write(plan.target.file, bytes);
      counters.made += 1;
      plan.target.made.resolve(plan.target.file);
    }
  }

  function isOrphan({ segments }: CacheEntry, lookup: SourceLookup): boolean {
    const [variant, ...rest] = segments;
    const leaf = rest.pop();
    const parsed = leaf === undefined ? undefined : parseLeaf(leaf);
    // Temp files are removeStaleTemp's; files keepsake did not name are left alone.
    if (variant === undefined || leaf === undefined || parsed === undefined) return false;
    if (!servedVariants.includes(variant)) return true;
    const source = lookup(rest.join('/'), parsed.sourceName);
    return source === undefined || leafFor(source, variant) !== leaf;
  }

  /**
   * Deletes an album's cache files that `matches`. A job already making one of them (a
   * pre-generation started just before the photo was deleted) would write it after the
   * sweep, so such jobs are waited for and the album swept once more.
   */
  async function removeFromAlbum(albumPath: string, matches: (leaf: string) => boolean): Promise<number> {
    const deleted = await sweepAlbum(cacheDir, albumPath, matches);
    const inAlbum = (file: string): boolean => {
      // <cacheDir>/<variant>/<album…>/<leaf>
      const segments = path.relative(cacheDir, file).split(path.sep);
      return segments.slice(1, -1).join('/') === albumPath;
    };
    const inFlight = await flights.settled((file) => inAlbum(file) && matches(path.basename(file)));
    return inFlight === 0 ? deleted : deleted + (await sweepAlbum(cacheDir, albumPath, matches));
  }

  return {
    variants: settings.variants,
    servedVariants,
    format: encoder.format,
    cacheDir,
    presetOf: (variant) => settings.presets.get(variant),
    leafFor,
    parseLeaf,
    cachePathFor,
    ensureAll,
    async ensure(source, variant, priority = 'now', owner) {
      const file = (await ensureAll(source, [variant], priority, owner))[variant];
      if (file === undefined) throw new DerivativeError('WRITE_FAILED', `no file for variant ${variant}`);
      return file;
    },
    pregenerate(source, variants = settings.variants, priority = 'background') {
      ensureAll(source, variants, priority).catch((error: unknown) => {
        if (!(error instanceof Error && logged.has(error))) log.warn({ err: error }, 'pre-generation not queued');
      });
    },
    inBackground: (work) => queue.push(work, 'background').promise,
    async removeFor(albumPath, sourceName) {
      if (!isAlbumPath(albumPath)) throw invalidParameter('albumPath', "'' or '/'-separated plain folder names", albumPath);
      if (!isPlainSegment(sourceName)) throw invalidParameter('sourceName', 'a plain file name', sourceName);
      return removeFromAlbum(albumPath, (leaf) => parseLeaf(leaf)?.sourceName === sourceName);
    },
    async removeVersion(source) {
      const leaves = new Set(servedVariants.map((variant) => leafFor(source, variant)));
      return removeFromAlbum(source.albumPath, (leaf) => leaves.has(leaf));
    },
    pruneOrphans: (lookup) => sweepCache(cacheDir, (entry) => isOrphan(entry, lookup)),
    removeStaleTemp: () =>
      sweepCache(cacheDir, ({ segments }) => {
        const name = segments.at(-1) ?? '';
        return name.startsWith(TEMP_PREFIX) && !writer.isActive(name);
      }),
    stats: () => ({ ...queue.stats(), ...counters }),
    async close() {
      closed = true;
      const reason = () => new DerivativeError('CLOSED', 'derivatives are shutting down');
      await Promise.all([queue.close(reason), copies?.close(reason)]);
    },
  };
}

function describe(source: SourceIdentity): string {
  return source.albumPath === '' ? source.name : `${source.albumPath}/${source.name}`;
}
