import type { Context } from 'koa';
import type { Ui } from '../../ui/index.js';
import { mapPage, pageOf, sortItems } from '../../ui/index.js';
import { displayOf } from '../display.js';
import type { DerivativeNaming } from '../media-urls.js';
import { presentAlbum, presentItem } from '../media-urls.js';
import { safeNextPath } from '../same-origin.js';
import { visitorOf, type Visitor } from '../session.js';
import { libraryFor, type GatedLibrary } from '../visible-library.js';
import { honeypotPath } from '../../guard/index.js';
import { CACHE_POLICY, parseMediaUrl } from '../../media-contract.js';
import { visibleListing, visibleTopAlbums } from './albums-api.js';

export interface PagesDeps {
  readonly library: GatedLibrary;
  readonly naming?: DerivativeNaming | undefined;
  readonly ui: Ui;
  readonly guardSecret: string;
  readonly deterrents: boolean;
  readonly honeypot: boolean;
}

export function answerPage(ctx: Context, body: string, status = 200): void {
  // Pages are never stored: after logout, Back must not show photos from the cache.
  ctx.set('Cache-Control', CACHE_POLICY.page);
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

/** A page that is not there, or not this visitor's: one answer for both, in their language. */
export function answerPageNotFound(ctx: Context, ui: Ui): void {
  answerPage(ctx, ui.renderNotFound({ display: displayOf(ctx), loggedIn: visitorOf(ctx) !== undefined }), 404);
}

/** A page that needs a login sends the browser to log in, and back here afterwards. */
export function redirectToLogin(ctx: Context): void {
  ctx.set('Cache-Control', CACHE_POLICY.page);
  ctx.redirect(`/?next=${encodeURIComponent(ctx.originalUrl)}`);
}

export function pages(deps: PagesDeps) {
  const { library, naming, ui, deterrents } = deps;

  /** The session's trap link, unless the catalogue really holds a photo by that name. */
  function honeypotFor(visitor: Visitor): string | undefined {
    if (!deps.honeypot) return undefined;
    const href = honeypotPath(visitor.token, deps.guardSecret);
    const url = parseMediaUrl(href);
    return url !== undefined && library.item(url.albumPath, url.name) === undefined ? href : undefined;
  }

  return {
    honeypotFor,
    home(ctx: Context): void {
      const visitor = visitorOf(ctx);
      const display = displayOf(ctx);
      if (visitor === undefined) {
        answerPage(ctx, ui.renderLoginPage({ display, next: safeNextPath(ctx.query['next']) }));
        return;
      }
      const albums = visibleTopAlbums(libraryFor(library, visitor), visitor).map((album) => presentAlbum(visitor, album, naming));
      answerPage(ctx, ui.renderAlbumIndex({ display, visitor, albums, deterrents, honeypotHref: honeypotFor(visitor) }));
    },
    album(ctx: Context): void {
      const visitor = visitorOf(ctx);
      if (visitor === undefined) return redirectToLogin(ctx);
      const listing = visibleListing(libraryFor(library, visitor), visitor, ctx.path.slice('/albums/'.length));
      if (listing === undefined) return answerPageNotFound(ctx, ui);
      library.lookingAt(listing.album.path);
      const display = displayOf(ctx);
      const page = pageOf(sortItems(listing.items, display.sort), ctx.query['page']);
      answerPage(
        ctx,
        ui.renderAlbumPage({
          display,
          visitor,
          album: presentAlbum(visitor, listing.album, naming),
          albums: listing.albums.map((album) => presentAlbum(visitor, album, naming)),
          items: mapPage(page, (item) => presentItem(visitor, item, naming)),
          deterrents,
          honeypotHref: honeypotFor(visitor),
        }),
      );
    },
  };
}
