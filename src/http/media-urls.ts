import { placeFor, type Place } from '../auth/index.js';
import type { AlbumSummary, MediaItem } from '../library/index.js';
import { mayFetch, mediaUrl, ORIGINAL, PLAYABLE, playUrlOf, servesItem, variantRules } from '../media-contract.js';
import type { Visitor } from './session.js';

/** How derivative URLs are named; provided by the derivatives module once it is wired. */
export interface DerivativeNaming {
  readonly variants: readonly string[];
  leafFor(item: MediaItem, variant: string): string;
}

/**
 * Every URL of an item that this visitor may fetch, each under the visitor's own token: one per
 * variant of the media contract that this view may fetch and that serves this kind of file.
 */
export function itemUrls(visitor: Visitor, item: MediaItem, naming: DerivativeNaming | undefined): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const rule of variantRules(naming?.variants ?? [])) {
    if (!mayFetch(rule, visitor.canDownloadOriginals) || !servesItem(rule, item)) continue;
    const name = rule.source === 'cache' ? naming!.leafFor(item, rule.name) : item.name;
    urls[rule.name] = mediaUrl(visitor.token, rule.name, item.albumPath, name);
  }
  return urls;
}

/** The URL shown for an album: its cover's thumbnail (or original where no derivatives exist). */
export function coverUrl(visitor: Visitor, album: AlbumSummary, naming: DerivativeNaming | undefined): string | null {
  if (album.cover === undefined) return null;
  const urls = itemUrls(visitor, album.cover, naming);
  return urls['thumb'] ?? urls[ORIGINAL] ?? null;
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
    lastAddedAt: isoOrNull(album.lastAddedAt),
  };
}

/**
 * A photo's motion, under the name `motion`: a Live Photo's clip (its playable copy, else as
 * recorded), or a Motion Photo's own playable copy (which a photo lists under no other name).
 */
function withMotion(visitor: Visitor, item: MediaItem, naming: DerivativeNaming | undefined, urls: Record<string, string>): Record<string, string> {
  if (item.type !== 'image') return urls;
  const { [PLAYABLE]: own, ...rest } = urls;
  const motion = item.motion === undefined ? own : playUrlOf(itemUrls(visitor, item.motion, naming));
  return motion === undefined ? rest : { ...rest, motion };
}

/** A RAW+JPEG pair's original download: the RAW, for a visitor who may fetch originals. */
function rawOriginalUrl(visitor: Visitor, item: MediaItem, naming: DerivativeNaming | undefined): Record<string, string> {
  const original = item.raw === undefined ? undefined : itemUrls(visitor, item.raw, naming)[ORIGINAL];
  return original === undefined ? {} : { [ORIGINAL]: original };
}

/** Where it was taken, as much as the visitor's location policy allows; nothing at all for `none`. */
function placeField(visitor: Visitor, item: MediaItem): { place?: Place } {
  const place = placeFor(visitor.location, item.position);
  return place === undefined ? {} : { place };
}

/** The allow-listed photo info (the catalogue kept nothing else) and the placeholder, each only when there is one. */
function photoFields(item: MediaItem): { info?: NonNullable<MediaItem['info']>; placeholder?: string } {
  if (item.type !== 'image') return {};
  return { ...(item.info === undefined ? {} : { info: item.info }), ...(item.placeholder === undefined ? {} : { placeholder: item.placeholder }) };
}

export function presentItem(visitor: Visitor, item: MediaItem, naming: DerivativeNaming | undefined) {
  return {
    name: item.name,
    type: item.type,
    width: item.width,
    height: item.height,
    takenAt: new Date(item.takenAt).toISOString(),
    ...(item.type === 'video' ? { durationSeconds: item.durationMs ? item.durationMs / 1000 : null } : {}),
    urls: { ...withMotion(visitor, item, naming, itemUrls(visitor, item, naming)), ...rawOriginalUrl(visitor, item, naming) },
    ...placeField(visitor, item),
    ...photoFields(item),
  };
}
