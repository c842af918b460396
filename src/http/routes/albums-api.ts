import type { Context } from 'koa';
import { canSeeAlbum, grantedRoots } from '../../auth/index.js';
import type { AlbumListing, AlbumSummary, Library } from '../../library/index.js';
import { CACHE_POLICY, decodeSegments } from '../../media-contract.js';
import { presentAlbum, presentItem, type DerivativeNaming } from '../media-urls.js';
import { respondNotFound } from '../not-found.js';
import { visitorOf, type Visitor } from '../session.js';
import { libraryFor, type GatedLibrary } from '../visible-library.js';

export interface AlbumsDeps {
  readonly library: GatedLibrary;
  readonly naming?: DerivativeNaming | undefined;
}

function newestFirst(a: AlbumSummary, b: AlbumSummary): number {
  return (b.lastTakenAt ?? 0) - (a.lastTakenAt ?? 0) || a.title.localeCompare(b.title);
}

/** The top-level albums a visitor sees: the roots of what their key grants, newest first. */
export function visibleTopAlbums(library: Library, visitor: Visitor): AlbumSummary[] {
  return grantedRoots(visitor.albums, library.albums())
    .map((album) => library.summary(album.path))
    .filter((summary): summary is AlbumSummary => summary !== undefined)
    .sort(newestFirst);
}

/**
 * The album at an (encoded) URL path when this visitor may see it, where it appears and where it
 * really is; else undefined. Its sub-albums and photos are then all the visitor's to see: the
 * catalogue follows links only deeper into the album holding them.
 */
export function visibleListing(library: Library, visitor: Visitor, encodedPath: string): AlbumListing | undefined {
  const segments = decodeSegments(encodedPath);
  const album = segments === undefined ? undefined : library.album(segments.join('/'));
  if (album === undefined || !canSeeAlbum(visitor.albums, album)) return undefined;
  const listing = library.listing(album.path);
  return listing === undefined ? undefined : { ...listing, albums: [...listing.albums].sort(newestFirst) };
}

/** The visitor, or a 401 answered; API answers are never cached. */
export function requireVisitor(ctx: Context): Visitor | undefined {
  const visitor = visitorOf(ctx);
  ctx.set('Cache-Control', CACHE_POLICY.page);
  if (visitor === undefined) {
    ctx.status = 401;
    ctx.body = { error: 'Not logged in' };
  }
  return visitor;
}

export function albumsApi(deps: AlbumsDeps) {
  const { library, naming } = deps;
  return {
    list(ctx: Context): void {
      const visitor = requireVisitor(ctx);
      if (visitor === undefined) return;
      ctx.body = { albums: visibleTopAlbums(libraryFor(library, visitor), visitor).map((album) => presentAlbum(visitor, album, naming)) };
    },
    show(ctx: Context): void {
      const visitor = requireVisitor(ctx);
      if (visitor === undefined) return;
      const listing = visibleListing(libraryFor(library, visitor), visitor, ctx.path.slice('/api/albums/'.length));
      if (listing === undefined) {
        respondNotFound(ctx);
        return;
      }
      library.lookingAt(listing.album.path);
      ctx.body = {
        album: presentAlbum(visitor, listing.album, naming),
        albums: listing.albums.map((album) => presentAlbum(visitor, album, naming)),
        items: listing.items.map((item) => presentItem(visitor, item, naming)),
      };
    },
  };
}
