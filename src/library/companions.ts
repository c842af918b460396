import { isRawPhoto, RAW_EXTENSIONS } from '../media-contract.js';
import type { MediaItem } from './types.js';

/*
 * Files that belong to another file of the same base name in the same album, so that the pair is
 * one item in a listing:
 * - a Live Photo (an iPhone's photo with the few seconds around it as a .mov) and other
 *   photo-with-motion pairs: the photo, carrying the short video as its `motion`;
 * - a camera's RAW+JPEG pair: the JPEG (or HEIC), carrying the RAW as its `raw`, the original
 *   a key that allows originals downloads.
 * The companion stays in the catalogue under its own name, so its URLs are served by the same
 * rules as any file's, by keepsake and by a static server alike. The album counts come from SQL
 * (companionSql) and follow the same rules.
 */

/** Longer than this, a video beside a photo of the same name is a video of its own. */
export const MOTION_MAX_MS = 10_000;

/** The name without its extension, ASCII letters in lower case (as SQLite's lower() does, for the counts). */
function baseName(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name).replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** The same base name in SQL: everything before the last dot, lower-cased. */
function sqlBaseName(column: string): string {
  return `lower(rtrim(rtrim(${column}, replace(${column}, '.', '')), '.'))`;
}

/** Whether a name is a RAW file's, in SQL (the media contract's RAW extensions). */
function sqlIsRaw(column: string): string {
  return `(${RAW_EXTENSIONS.map((extension) => `lower(substr(${column}, -${extension.length})) = '${extension}'`).join(' OR ')})`;
}

/** A photo of the album `alias` is in, with the same base name, that `condition` (over `photo`) holds for. */
function sqlSameNamePhoto(alias: string, condition: string): string {
  return `EXISTS (SELECT 1 FROM media photo WHERE photo.album_path = ${alias}.album_path AND photo.type = 'image'
      AND ${condition} AND ${sqlBaseName('photo.name')} = ${sqlBaseName(`${alias}.name`)})`;
}

/**
 * True in SQL for a row of `media` (as `alias`) that is another item's companion (a photo's
 * motion clip, or the RAW beside a JPEG), so it is not counted as an item of its own.
 */
export function companionSql(alias: string): string {
  const motion = `(${alias}.type = 'video' AND ${alias}.duration_ms BETWEEN 1 AND ${MOTION_MAX_MS} AND ${sqlSameNamePhoto(alias, '1')})`;
  const raw = `(${alias}.type = 'image' AND ${sqlIsRaw(`${alias}.name`)} AND ${sqlSameNamePhoto(alias, `NOT ${sqlIsRaw('photo.name')}`)})`;
  return `(${motion} OR ${raw})`;
}

/** Whether `video` can be a photo's motion: probed, and short (a video ffprobe could not read is never paired). */
function isMotionClip(video: MediaItem): boolean {
  return video.type === 'video' && video.durationMs !== undefined && video.durationMs > 0 && video.durationMs <= MOTION_MAX_MS;
}

/** Each companion `isCompanion` picks, by the first item of its base name that `isPartner` picks. */
function partnersOf(items: readonly MediaItem[], isPartner: (item: MediaItem) => boolean, isCompanion: (item: MediaItem) => boolean): Map<MediaItem, MediaItem> {
  const partners = new Map<string, MediaItem>();
  for (const item of items) if (isPartner(item) && !partners.has(baseName(item.name))) partners.set(baseName(item.name), item);
  const companionOf = new Map<MediaItem, MediaItem>();
  for (const item of items) {
    if (!isCompanion(item)) continue;
    const partner = partners.get(baseName(item.name));
    if (partner !== undefined && !companionOf.has(partner)) companionOf.set(partner, item);
  }
  return companionOf;
}

/**
 * The items of one album as a listing shows them: each photo with its motion attached, each
 * JPEG with the RAW beside it attached, and those companions themselves left out.
 */
export function pairCompanions(items: readonly MediaItem[]): MediaItem[] {
  const rawOf = partnersOf(items, (item) => item.type === 'image' && !isRawPhoto(item.name), (item) => item.type === 'image' && isRawPhoto(item.name));
  const raws = new Set(rawOf.values());
  // A motion clip belongs to the photo that is shown: never to a RAW that is its JPEG's companion.
  const motionOf = partnersOf(items, (item) => item.type === 'image' && !raws.has(item), isMotionClip);
  const paired = new Set([...motionOf.values(), ...raws]);
  return items.filter((item) => !paired.has(item)).map((item) => {
    const motion = motionOf.get(item);
    const raw = rawOf.get(item);
    return motion === undefined && raw === undefined ? item : { ...item, ...(motion === undefined ? {} : { motion }), ...(raw === undefined ? {} : { raw }) };
  });
}
