import type { Context } from 'koa';
import type { Ui } from '../../ui/index.js';
import type { DerivativeNaming } from '../media-urls.js';
import { presentAlbum, presentItem } from '../media-urls.js';
import { respondNotFound } from '../not-found.js';
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

function html(ctx: Context, body: string): void {
  // Pages are never stored: after logout, Back must not show photos from the cache.
  ctx.set('Cache-Control', CACHE_POLICY.page);
  ctx.type = 'html';
  ctx.body = body;
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
    home(ctx: Context): void {
      const visitor = visitorOf(ctx);
      if (visitor === undefined) {
        html(ctx, ui.renderLoginPage({ next: safeNextPath(ctx.query['next']) }));
        return;
      }
      const albums = visibleTopAlbums(libraryFor(library, visitor), visitor).map((album) => presentAlbum(visitor, album, naming));
      html(ctx, ui.renderAlbumIndex({ visitor, albums, deterrents, honeypotHref: honeypotFor(visitor) }));
    },
    album(ctx: Context): void {
      const visitor = visitorOf(ctx);
      if (visitor === undefined) {
        ctx.set('Cache-Control', CACHE_POLICY.page);
        ctx.redirect(`/?next=${encodeURIComponent(ctx.path)}`);
        return;
      }
      const listing = visibleListing(libraryFor(library, visitor), visitor, ctx.path.slice('/albums/'.length));
      if (listing === undefined) {
        respondNotFound(ctx);
        return;
      }
      html(
        ctx,
        ui.renderAlbumPage({
          visitor,
          album: presentAlbum(visitor, listing.album, naming),
          albums: listing.albums.map((album) => presentAlbum(visitor, album, naming)),
          items: listing.items.map((item) => presentItem(visitor, item, naming)),
          deterrents,
          honeypotHref: honeypotFor(visitor),
        }),
      );
    },
  };
}
