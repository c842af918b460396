import type { AlbumSummary, MediaItem } from '../library/index.js';
import type { Visitor } from './session.js';

/** How derivative URLs are named; provided by the derivatives module once it is wired. */
export interface DerivativeNaming {
  readonly variants: readonly string[];
  leafFor(item: MediaItem, variant: string): string;
}

function encodePath(...segments: string[]): string {
  return segments
    .filter((segment) => segment !== '')
    .flatMap((segment) => segment.split('/'))
    .map(encodeURIComponent)
    .join('/');
}

/** Every URL of an item that this visitor may fetch, each under the visitor's own token. */
export function itemUrls(visitor: Visitor, item: MediaItem, naming: DerivativeNaming | undefined): Record<string, string> {
  const base = `/${visitor.token}`;
  const urls: Record<string, string> = {};
  if (item.type === 'image' && naming !== undefined) {
    for (const variant of naming.variants) {
      urls[variant] = `${base}/${encodePath(variant, item.albumPath, naming.leafFor(item, variant))}`;
    }
  }
  if (item.type === 'video') urls['video'] = `${base}/${encodePath('video', item.albumPath, item.name)}`;
  if (visitor.canDownloadOriginals) urls['original'] = `${base}/${encodePath('original', item.albumPath, item.name)}`;
  return urls;
}

/** The URL shown for an album: its cover's thumbnail (or original where no derivatives exist). */
export function coverUrl(visitor: Visitor, album: AlbumSummary, naming: DerivativeNaming | undefined): string | null {
  if (album.cover === undefined) return null;
  const urls = itemUrls(visitor, album.cover, naming);
  return urls['thumb'] ?? urls['original'] ?? null;
}

function isoOrNull(time: number | undefined): string | null {
  return time === undefined ? null : new Date(time).toISOString();
}

export function presentAlbum(visitor: Visitor, album: AlbumSummary, naming: DerivativeNaming | undefined) {
  return {
    path: album.path,
    title: album.title,
    photoCount: album.photoCount,
    albumCount: album.albumCount,
    cover: coverUrl(visitor, album, naming),
    firstTakenAt: isoOrNull(album.firstTakenAt),
    lastTakenAt: isoOrNull(album.lastTakenAt),
  };
}

export function presentItem(visitor: Visitor, item: MediaItem, naming: DerivativeNaming | undefined) {
  return {
    name: item.name,
    type: item.type,
    width: item.width,
    height: item.height,
    takenAt: new Date(item.takenAt).toISOString(),
    urls: itemUrls(visitor, item, naming),
  };
}
