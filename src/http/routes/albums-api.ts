import type { Context } from 'koa';
import { grantedRoots, isAlbumGranted } from '../../auth/index.js';
import type { AlbumListing, AlbumSummary, Library } from '../../library/index.js';
import { splitRequestPath } from '../../paths.js';
import { presentAlbum, presentItem, type DerivativeNaming } from '../media-urls.js';
import { respondNotFound } from '../not-found.js';
import { visitorOf, type Visitor } from '../session.js';

export interface AlbumsDeps {
  readonly library: Library;
  readonly naming?: DerivativeNaming | undefined;
}

function newestFirst(a: AlbumSummary, b: AlbumSummary): number {
  return (b.lastTakenAt ?? 0) - (a.lastTakenAt ?? 0) || a.title.localeCompare(b.title);
}

/** The top-level albums a visitor sees: the roots of what their key grants, newest first. */
export function visibleTopAlbums(library: Library, visitor: Visitor): AlbumSummary[] {
  return grantedRoots(visitor.albums, library.albumPaths())
    .map((albumPath) => library.summary(albumPath))
    .filter((summary): summary is AlbumSummary => summary !== undefined)
    .sort(newestFirst);
}

/** The album at an (encoded) URL path when this visitor may see it; else undefined. */
export function visibleListing(library: Library, visitor: Visitor, encodedPath: string): AlbumListing | undefined {
  let albumPath: string;
  try {
    albumPath = splitRequestPath(encodedPath).join('/');
  } catch {
    return undefined;
  }
  if (!isAlbumGranted(visitor.albums, albumPath)) return undefined;
  const listing = library.listing(albumPath);
  return listing === undefined ? undefined : { ...listing, albums: [...listing.albums].sort(newestFirst) };
}

function requireVisitor(ctx: Context): Visitor | undefined {
  const visitor = visitorOf(ctx);
  ctx.set('Cache-Control', 'no-store');
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
      ctx.body = { albums: visibleTopAlbums(library, visitor).map((album) => presentAlbum(visitor, album, naming)) };
    },
    show(ctx: Context): void {
      const visitor = requireVisitor(ctx);
      if (visitor === undefined) return;
      const listing = visibleListing(library, visitor, ctx.path.slice('/api/albums/'.length));
      if (listing === undefined) {
        respondNotFound(ctx);
        return;
      }
      ctx.body = {
        album: presentAlbum(visitor, listing.album, naming),
        albums: listing.albums.map((album) => presentAlbum(visitor, album, naming)),
        items: listing.items.map((item) => presentItem(visitor, item, naming)),
      };
    },
  };
}
