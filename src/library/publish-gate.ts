import type { Db } from '../store/index.js';
import { companionSql } from './companions.js';
import { belowBounds } from './relative-path.js';

/*
 * The publish gate (KEEPSAKE_PUBLISH=review): an album that appears in the media root is
 * catalogued unpublished (catalogue-table.ts), and every answer to a visitor leaves it out
 * (album-queries.ts), so it is in no key's view, no page, no API answer and no media URL, and
 * no derivative is made of it, until the admin publishes it. Albums catalogued before the gate
 * was turned on are published.
 */

/** An album waiting for review: everything below it waits with it. */
export interface PendingAlbum {
  readonly path: string;
  readonly albums: number;
  readonly photos: number;
  readonly firstTakenAt: number | undefined;
  readonly lastTakenAt: number | undefined;
}

export type PublishGate = ReturnType<typeof createPublishGate>;

export function createPublishGate(db: Db) {
  const sql = {
    pending: db.prepare('SELECT path FROM albums WHERE published = 0 ORDER BY path').pluck(),
    isPending: db.prepare('SELECT published = 0 FROM albums WHERE path = ?').pluck(),
    subtreeAlbums: db.prepare('SELECT COUNT(*) FROM albums WHERE (path = ? OR (path > ? AND path < ?)) AND published = 0').pluck(),
    // A Live Photo and a RAW+JPEG pair count once, as in the album's own count (companions.ts).
    subtreeMedia: db.prepare(`SELECT COUNT(*) AS photos, MIN(clip.taken_at) AS first, MAX(clip.taken_at) AS last FROM media clip WHERE (clip.album_path = ? OR (clip.album_path > ? AND clip.album_path < ?)) AND NOT ${companionSql('clip')}`),
    publish: db.prepare('UPDATE albums SET published = 1 WHERE (path = ? OR (path > ? AND path < ?)) AND published = 0'),
    publishAll: db.prepare('UPDATE albums SET published = 1 WHERE published = 0'),
  };
  const bounds = (path: string) => {
    const { lower, upper } = belowBounds(path);
    return [path, lower, upper] as const;
  };

  return {
    /** The albums waiting for review, each the topmost of what waits (a dropped tree is one entry). */
    pending(): PendingAlbum[] {
      const paths = sql.pending.all() as string[];
      const tops = paths.filter((path) => !paths.some((other) => path.startsWith(`${other}/`)));
      return tops.map((path) => {
        const media = sql.subtreeMedia.get(...bounds(path)) as { photos: number; first: number | null; last: number | null };
        return { path, albums: sql.subtreeAlbums.get(...bounds(path)) as number, photos: media.photos, firstTakenAt: media.first ?? undefined, lastTakenAt: media.last ?? undefined };
      });
    },
    /** Whether this catalogued album waits for review. */
    isPending: (path: string): boolean => sql.isPending.get(path) === 1,
    /** Publishes an album and everything below it; how many albums were released (0: none waited there). */
    publish: (path: string): number => sql.publish.run(...bounds(path)).changes,
    publishAll: (): number => sql.publishAll.run().changes,
  };
}
