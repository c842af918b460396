import path from 'node:path';
import type { Context, Next } from 'koa';
import { canSeeAlbum } from '../../auth/index.js';
import type { Derivatives, SourceImage } from '../../derivatives/index.js';
import type { AlbumLocation, MediaItem } from '../../library/index.js';
import {
  ACCEL_PREFIXES,
  CACHE_POLICY,
  REFUSAL_BODIES,
  TEXT_TYPE,
  isMediaPath,
  LINK_COOKIE,
  mayFetch,
  parseMediaUrl,
  servesFile,
  servesItem,
  servesRanges,
  variantRule,
  type MediaUrl,
  type VariantRule,
} from '../../media-contract.js';
import { openVerified, PathRejectedError, type VerifiedFile } from '../../paths.js';
import type { ReceiptRecorder } from '../../receipts/index.js';
import type { ReceiptSession } from '../../store/index.js';
import type { AccelPaths, CachedFile, MemoryCache } from '../memory-cache.js';
import { respondNotFound } from '../not-found.js';
import { accelPathOf, readSmallFile, sendBytes, sendFile } from '../send-file.js';
import { clearLinkCookie, type LinkCookies } from '../link-cookie.js';
import { visitorOf, type Visitor } from '../session.js';
import { libraryFor, type GatedLibrary } from '../visible-library.js';

export interface MediaDeps {
  readonly library: GatedLibrary;
  readonly derivatives: Derivatives;
  /** Real paths of where media bytes live. */
  readonly mediaRoot: string;
  readonly cacheDir: string;
  /** nginx sends the bytes (X-Accel-Redirect) once keepsake has checked them. */
  readonly accel: boolean;
  readonly sourceOf: (item: MediaItem) => SourceImage;
  /** A derivative (`target`, its cache name) must be made for this request: a slot, or undefined once the refusal is answered. */
  readonly admitMiss: (ctx: Context, target: string) => Promise<{ release(): void } | undefined>;
  /** Derivatives already read, by cache name (undefined: none kept, as with X-Accel). */
  readonly memory: MemoryCache | undefined;
  /** With X-Accel: where derivatives were found verified, by cache name. */
  readonly accelPaths: AccelPaths | undefined;
  readonly linkCookies: LinkCookies;
  /** Where each answer is noted for the session's exposure receipt. */
  readonly receipts: ReceiptRecorder;
}

/** Notes a media answer on the session's receipt: the item (a companion under its own name) and whether it was the stored file. */
export function noteReceipt(deps: Pick<MediaDeps, 'receipts'>, session: ReceiptSession, target: MediaTarget, address: string): void {
  deps.receipts.record(session, { albumPath: target.item.albumPath, name: target.item.name, original: target.rule.source === 'media-root', address, at: Date.now() });
}

/** Up to this size a derivative read from disk is kept in memory (every default variant is far smaller). */
const MEMORY_FILE_BYTES = 1024 * 1024;

/** What a media request asks for, once every guard has said yes. */
export interface MediaTarget {
  readonly rule: VariantRule;
  readonly album: AlbumLocation;
  readonly item: MediaItem;
}

export type Verdict = MediaTarget | { readonly refused: string };

const no = (refused: string): Verdict => ({ refused });

/**
 * The guards, in order, over one parsed request: the session owns the token → the variant
 * exists and this view may fetch it → the album is granted, where it appears and where it
 * really is → the file is in the catalogue and is a kind this variant serves (a derivative: the
 * current one). Each "no" names itself for the log; the visitor sees the one uniform 404.
 */
export function authorise(url: MediaUrl, visitor: Pick<Visitor, 'token' | 'canDownloadOriginals' | 'albums' | 'preview'> | undefined, method: string, deps: MediaDeps): Verdict {
  if (method !== 'GET' && method !== 'HEAD') return no('method');
  if (visitor === undefined || visitor.token !== url.token) return no('not this session\'s token');
  const rule = variantRule(url.variant, deps.derivatives.servedVariants);
  if (rule === undefined) return no('unknown variant');
  if (!mayFetch(rule, visitor.canDownloadOriginals)) return no('variant not granted');
  const library = libraryFor(deps.library, visitor);
  const album = library.album(url.albumPath);
  if (album === undefined || !canSeeAlbum(visitor.albums, album)) return no('album not granted');
  if (!servesFile(rule, url.name)) return no('not a kind of file this variant serves');
  if (rule.source === 'media-root') {
    const item = library.item(url.albumPath, url.name);
    if (item === undefined || !servesItem(rule, item)) return no('not in the catalogue');
    return { rule, album, item };
  }
  const leaf = deps.derivatives.parseLeaf(url.name);
  const item = leaf === undefined ? undefined : library.item(url.albumPath, leaf.sourceName);
  if (item === undefined || !servesItem(rule, item) || deps.derivatives.leafFor(item, rule.name) !== url.name) return no('not a current derivative');
  return { rule, album, item };
}

/**
 * The derivative's bytes: from memory when read before, else its cache file verified to be that
 * very file (made first on a miss, if this visitor may have one more made now; undefined when
 * not: the refusal is answered) and kept in memory when small.
 */
/** Where a derivative lives in the cache folder, as segments, and its leaf name. */
function cachePlace(target: MediaTarget, deps: MediaDeps): { folder: string[]; leaf: string } {
  return { folder: [target.rule.name, ...target.album.path.split('/')], leaf: deps.derivatives.leafFor(target.item, target.rule.name) };
}

/**
 * The derivative's bytes when they are in memory already: never for originals and videos, nor
 * for video copies (a player asks for ranges, which only the file path answers).
 */
export function derivativeInMemory(target: MediaTarget, deps: MediaDeps): CachedFile | undefined {
  if (target.rule.source !== 'cache' || target.rule.ranges || deps.memory === undefined) return undefined;
  const { folder, leaf } = cachePlace(target, deps);
  return deps.memory.get(path.join(...folder, leaf));
}

/** With X-Accel: the derivative's X-Accel-Redirect path when it was found verified lately. */
export function derivativeAccelPath(target: MediaTarget, deps: MediaDeps): string | undefined {
  if (target.rule.source !== 'cache' || deps.accelPaths === undefined) return undefined;
  const { folder, leaf } = cachePlace(target, deps);
  return deps.accelPaths.get(path.join(...folder, leaf));
}

async function derivative(ctx: Context, target: MediaTarget, deps: MediaDeps): Promise<CachedFile | VerifiedFile | undefined> {
  const kept = derivativeInMemory(target, deps);
  if (kept !== undefined) return kept;
  const { folder, leaf } = cachePlace(target, deps);
  const key = path.join(...folder, leaf);
  const file = await openDerivative(ctx, target, deps, folder, leaf);
  if (file !== undefined && deps.accelPaths !== undefined) deps.accelPaths.set(key, accelPathOf(ACCEL_PREFIXES.cache, deps.cacheDir, file.realPath));
  if (file === undefined || deps.memory === undefined || target.rule.ranges) return file;
  const bytes = await readSmallFile(file, MEMORY_FILE_BYTES);
  if (bytes === undefined) return file;
  deps.memory.set(key, bytes);
  return bytes;
}

async function openDerivative(ctx: Context, target: MediaTarget, deps: MediaDeps, folder: readonly string[], leaf: string): Promise<VerifiedFile | undefined> {
  const open = () => openVerified(deps.cacheDir, [...folder, leaf], path.join(deps.cacheDir, ...folder));
  try {
    return await open();
  } catch (error) {
    if (!(error instanceof PathRejectedError)) throw error;
  }
  const ticket = await deps.admitMiss(ctx, path.join(...folder, leaf));
  if (ticket === undefined) return undefined;
  try {
    // The queue is shared fairly between visitors: one asking for thousands waits its turn.
    const made = deps.derivatives.ensure(deps.sourceOf(target.item), target.rule.name, 'now', visitorOf(ctx)?.sid ?? ctx.ip);
    if (target.rule.output !== 'video') await made;
    else if (!(await settlesWithin(made, COPY_WAIT_MS))) {
      // A transcode can take longer than a player (or a proxy) waits: it goes on, first in line.
      made.catch(() => undefined);
      answerNotReady(ctx);
      return undefined;
    }
  } finally {
    ticket.release();
  }
  return open();
}

/** How long a request waits for a video's playable copy before it is told to come back. */
const COPY_WAIT_MS = 20_000;

/** True when `work` succeeds within `ms`, false when it is still going; its failure is thrown. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function answerNotReady(ctx: Context): void {
  ctx.status = 503;
  ctx.type = TEXT_TYPE;
  ctx.set('Retry-After', '10');
  ctx.set('Cache-Control', CACHE_POLICY.page);
  ctx.body = REFUSAL_BODIES[503];
  ctx.state['mediaRefused'] = 'playable copy still being made';
}

function refuse(ctx: Context, token: string | undefined, reason: string): void {
  ctx.state['mediaRefused'] = reason;
  // A browser still holding a dead token's link cookie loses it with its first 404.
  if (token !== undefined && ctx.cookies.get(LINK_COOKIE) !== undefined) clearLinkCookie(ctx, token);
  respondNotFound(ctx);
}

/** `/<token>/<variant>/<album>/<file>`: every media answer keepsake gives, or the uniform 404. */
export function mediaRoute(deps: MediaDeps) {
  return async function media(ctx: Context, next: Next): Promise<void> {
    if (!isMediaPath(ctx.path)) return next();
    const url = parseMediaUrl(ctx.path);
    if (url === undefined) return refuse(ctx, undefined, 'malformed path');
    const visitor = visitorOf(ctx);
    const verdict = authorise(url, visitor, ctx.method, deps);
    if ('refused' in verdict) return refuse(ctx, visitor?.token === url.token ? undefined : url.token, verdict.refused);
    // A static server in front sends here what its link cookie no longer proves (a browser updated
    // mid-session): a fresh one lets it send the rest from disk again.
    if (!visitor!.preview && !deps.linkCookies.proves(ctx.req, url.token)) deps.linkCookies.set(ctx, url.token, visitor!.expiresAt - Date.now());
    const fromCache = verdict.rule.source === 'cache';
    let file: CachedFile | VerifiedFile | undefined;
    try {
      file = fromCache ? await derivative(ctx, verdict, deps) : await libraryFor(deps.library, visitor).openOriginal(verdict.item);
    } catch (error) {
      if (error instanceof PathRejectedError) return refuse(ctx, undefined, error.reason);
      throw error;
    }
    if (file === undefined) return;
    noteReceipt(deps, visitor!, verdict, ctx.ip);
    const acceptRanges = servesRanges(verdict.rule, ctx.path);
    if ('bytes' in file) return sendBytes(ctx, file, { cacheControl: verdict.rule.cacheControl, acceptRanges });
    await sendFile(ctx, file, {
      root: fromCache ? deps.cacheDir : deps.mediaRoot,
      cacheControl: verdict.rule.cacheControl,
      acceptRanges,
      accelPrefix: deps.accel ? ACCEL_PREFIXES[verdict.rule.source] : undefined,
    });
  };
}
