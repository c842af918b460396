import path from 'node:path';
import type { Context } from 'koa';
import { isDerivativeError } from '../../derivatives/index.js';
import type { GuardConfig, MediaBudget, Refusal } from '../../guard/index.js';
import type { Logger } from '../../log.js';
import { CACHE_POLICY, shortToken, TEXT_TYPE } from '../../media-contract.js';
import { openVerified, PathRejectedError, type VerifiedFile } from '../../paths.js';
import type { DerivativeNaming } from '../media-urls.js';
import type { CachedFile } from '../memory-cache.js';
import { respondNotFound } from '../not-found.js';
import { isSameOriginRequest } from '../same-origin.js';
import { commitSession, forgetSession, type Visitor } from '../session.js';
import { libraryFor } from '../visible-library.js';
import { attachmentHeader, planAlbumZip, type ZipEntry } from '../zip-entries.js';
import { createZipWriter, type ZipWriter } from '../zip-writer.js';
import { requireVisitor, visibleListing } from './albums-api.js';
import { derivativeInMemory, noteReceipt, type MediaDeps, type MediaTarget } from './media.js';

/*
 * `POST /download/<album>`: the album and its visible sub-albums as one ZIP, streamed as it is
 * made. The guards run in order (same origin → logged in → the album as its page shows it → the
 * budget, one request per entry) and every refusal is answered before a byte of the archive.
 * Then one file is open at a time, read through the same checked open as the media route.
 */

export const DOWNLOAD_PREFIX = '/download/';

export interface AlbumDownloadDeps {
  readonly media: MediaDeps;
  readonly naming: DerivativeNaming;
  readonly publicUrl: string | undefined;
  readonly log: Logger;
  readonly mediaBudget: MediaBudget;
  readonly rates: GuardConfig['rates'];
  /** The guard's refusal: its status, body, Retry-After and log line. */
  readonly refuse: (ctx: Context, refusal: Refusal) => void;
  readonly endSession: (sid: string) => Promise<unknown>;
}

function answerText(ctx: Context, status: number, text: string): void {
  ctx.status = status;
  ctx.type = TEXT_TYPE;
  ctx.set('Cache-Control', CACHE_POLICY.page);
  ctx.body = text;
}

/** The file an entry is read from: as the media route opens it (a derivative made first when missing). */
async function openEntry(target: MediaTarget, visitor: Visitor, media: MediaDeps): Promise<CachedFile | VerifiedFile> {
  if (target.rule.source === 'media-root') return libraryFor(media.library, visitor).openOriginal(target.item);
  const kept = derivativeInMemory(target, media);
  if (kept !== undefined) return kept;
  const folder = [target.rule.name, ...target.album.path.split('/')];
  const leaf = media.derivatives.leafFor(target.item, target.rule.name);
  const open = () => openVerified(media.cacheDir, [...folder, leaf], path.join(media.cacheDir, ...folder));
  try {
    return await open();
  } catch (error) {
    if (!(error instanceof PathRejectedError)) throw error;
  }
  // Through the shared queue, fairly between visitors: a download of thousands waits its turn.
  await media.derivatives.ensure(media.sourceOf(target.item), target.rule.name, 'now', visitor.sid);
  return open();
}

export function albumDownloadRoutes(deps: AlbumDownloadDeps) {
  const { log, media } = deps;

  /** True when the session may spend one request per entry now; else the refusal is answered. */
  async function spend(ctx: Context, visitor: Visitor, entries: number): Promise<boolean> {
    const { perSession } = deps.rates;
    if (deps.rates.enabled && entries > perSession.burst) {
      // Never payable at once: refused without a strike against the session (the tripwire would end it).
      deps.refuse(ctx, { allow: false, policy: 'rates', reason: 'album download over the session budget', status: 429, retryAfterSeconds: Math.ceil(perSession.burst / perSession.perSecond) });
      ctx.body = `This album holds ${entries} files, more than one download may hold (${perSession.burst}). Download its sub-albums one at a time.\n`;
      return false;
    }
    const budget = await deps.mediaBudget.take(visitor.sid, ctx.ip, Math.max(1, entries));
    if (budget.allow) return true;
    if (budget.endSession) {
      await deps.endSession(visitor.sid);
      log.warn({ session: `${visitor.label} ${shortToken(visitor.token)}`, reason: budget.reason }, 'tripwire: session ended');
    }
    deps.refuse(ctx, budget);
    if (budget.endSession) forgetSession(ctx, visitor);
    ctx.body = `This download holds ${entries} files, more than this session may fetch right now. Try again in ${budget.retryAfterSeconds} s.\n`;
    return false;
  }

  /** Adds one entry; false when its file is gone or unreadable (logged, left out). */
  async function addEntry(zip: ZipWriter, entry: ZipEntry, visitor: Visitor, address: string): Promise<boolean> {
    let file: CachedFile | VerifiedFile;
    try {
      file = await openEntry(entry.target, visitor, media);
    } catch (error) {
      if (!(error instanceof PathRejectedError) && !isDerivativeError(error)) throw error;
      log.warn({ album: entry.target.album.path, name: entry.target.item.name, reason: error instanceof PathRejectedError ? error.reason : error.code }, 'album download: entry left out');
      return false;
    }
    noteReceipt(media, visitor, entry.target, address);
    if ('bytes' in file) {
      await zip.addBytes(file.bytes, entry.name, file.lastModified);
      return true;
    }
    const { size, mtime } = file.stats;
    // Exactly the size fstat gave: a file that reads short or grows ends the archive (yazl checks).
    const stream = size === 0 ? undefined : file.handle.createReadStream({ start: 0, end: size - 1, autoClose: true });
    if (stream === undefined) await file.handle.close();
    await (stream === undefined ? zip.addBytes(Buffer.alloc(0), entry.name, mtime) : zip.addStream(stream, entry.name, size, mtime));
    return true;
  }

  /** Streams the archive; a visitor who goes stops it (the open file is closed), and any failure cuts the connection, never a short archive that looks whole. */
  async function sendZip(ctx: Context, visitor: Visitor, title: string, entries: readonly ZipEntry[]): Promise<void> {
    ctx.status = 200;
    ctx.type = 'application/zip';
    ctx.set('Content-Disposition', attachmentHeader(title));
    ctx.set('Cache-Control', CACHE_POLICY.page);
    await commitSession(ctx);
    ctx.respond = false;
    const res = ctx.res;
    if (res.destroyed) return;
    const zip = createZipWriter();
    let gone = false;
    const closed = new Promise<void>((resolve) => res.once('close', resolve));
    const stop = () => {
      gone = true;
      zip.destroy();
      res.destroy();
    };
    res.once('close', () => {
      if (!res.writableFinished) stop();
    });
    zip.output.once('error', (error) => {
      log.warn({ err: error, album: title }, 'album download cut off');
      stop();
    });
    res.statusCode = 200;
    zip.output.pipe(res);
    let sent = 0;
    try {
      for (const entry of entries) {
        if (gone) break;
        if (await addEntry(zip, entry, visitor, ctx.ip)) sent += 1;
      }
      if (!gone) zip.end();
    } catch (error) {
      log.error({ err: error, album: title }, 'album download failed');
      stop();
    }
    await closed;
    log.info({ session: `${visitor.label} ${shortToken(visitor.token)}`, entries: entries.length, sent, complete: res.writableFinished }, 'album download');
  }

  return {
    /** A GET never starts a download: a link preview or a prefetch must not cost the visitor anything. */
    refuseGet(ctx: Context): void {
      ctx.set('Allow', 'POST');
      answerText(ctx, 405, 'An album download starts from the button on its page.\n');
    },
    async download(ctx: Context): Promise<void> {
      if (!isSameOriginRequest(ctx, deps.publicUrl)) return answerText(ctx, 403, 'This download must be started from the gallery itself.\n');
      const visitor = requireVisitor(ctx);
      if (visitor === undefined) return;
      const library = libraryFor(media.library, visitor);
      const listing = visibleListing(library, visitor, ctx.path.slice(DOWNLOAD_PREFIX.length));
      if (listing === undefined) return respondNotFound(ctx);
      const entries = planAlbumZip(listing, visitor, { library, naming: deps.naming, media });
      if (!(await spend(ctx, visitor, entries.length))) return;
      await sendZip(ctx, visitor, listing.album.title, entries);
    },
  };
}
