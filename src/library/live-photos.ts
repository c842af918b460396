import type { MediaItem } from './types.js';

/*
 * Live Photos (an iPhone's photo with the few seconds around it as a .mov) and other
 * photo-with-motion pairs: a short video with the same base name as a photo in the same
 * album belongs to that photo. The pair is one item in a listing: the photo, carrying the video
 * as its `motion`. The video stays in the catalogue under its own name, so its URL is served by
 * the same rules as any video's, by keepsake and by a static server alike.
 */

/** Longer than this, a video beside a photo of the same name is a video of its own. */
export const MOTION_MAX_MS = 10_000;

/** The name without its extension, ASCII letters in lower case (as SQLite's lower() does, for the count below). */
function baseName(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name).replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** The same base name in SQL: everything before the last dot, lower-cased. */
function sqlBaseName(column: string): string {
  return `lower(rtrim(rtrim(${column}, replace(${column}, '.', '')), '.'))`;
}

/**
 * The same rule in SQL, for counting an album's items without reading them: true for a row of
 * `media` (as `alias`) that is some photo's motion, so it is not counted as an item of its own.
 */
export function isMotionClipSql(alias: string): string {
  return `(${alias}.type = 'video' AND ${alias}.duration_ms BETWEEN 1 AND ${MOTION_MAX_MS} AND EXISTS (
    SELECT 1 FROM media photo WHERE photo.album_path = ${alias}.album_path AND photo.type = 'image'
      AND ${sqlBaseName('photo.name')} = ${sqlBaseName(`${alias}.name`)}))`;
}

/** Whether `video` can be a photo's motion: probed, and short (a video ffprobe could not read is never paired). */
function isMotionClip(video: MediaItem): boolean {
  return video.type === 'video' && video.durationMs !== undefined && video.durationMs > 0 && video.durationMs <= MOTION_MAX_MS;
}

/** The items of one album with each photo's motion attached and the motion clips themselves left out. */
export function pairMotion(items: readonly MediaItem[]): MediaItem[] {
  const photos = new Map<string, MediaItem>();
  for (const item of items) if (item.type === 'image' && !photos.has(baseName(item.name))) photos.set(baseName(item.name), item);
  const motionOf = new Map<MediaItem, MediaItem>();
  for (const item of items) {
    if (!isMotionClip(item)) continue;
    const photo = photos.get(baseName(item.name));
    if (photo !== undefined && !motionOf.has(photo)) motionOf.set(photo, item);
  }
  const paired = new Set(motionOf.values());
  return items.filter((item) => !paired.has(item)).map((item) => {
    const motion = motionOf.get(item);
    return motion === undefined ? item : { ...item, motion };
  });
}
