import type { MediaType } from './media-types.js';

export interface MediaItem {
  /** The file name inside its album. */
  readonly name: string;
  /** The album's path relative to the media root, `/`-separated ('' for loose files at the top). */
  readonly albumPath: string;
  readonly type: MediaType;
  readonly size: number;
  readonly mtimeMs: number;
  /** Pixel size after EXIF orientation (0 when unknown, as for videos). */
  readonly width: number;
  readonly height: number;
  /** Epoch ms: EXIF DateTimeOriginal when present, else the file's mtime. */
  readonly takenAt: number;
}

export interface AlbumSummary {
  readonly path: string;
  readonly title: string;
  readonly photoCount: number;
  readonly albumCount: number;
  /** The item shown for the album: its first photo, or a sub-album's. */
  readonly cover: MediaItem | undefined;
  readonly firstTakenAt: number | undefined;
  readonly lastTakenAt: number | undefined;
}

export interface AlbumListing {
  readonly album: AlbumSummary;
  readonly albums: readonly AlbumSummary[];
  readonly items: readonly MediaItem[];
}

/** What the HTTP layer and the views need from the media catalogue. */
export interface Library {
  /** Every album path (nested ones included), sorted. */
  albumPaths(): readonly string[];
  summary(albumPath: string): AlbumSummary | undefined;
  listing(albumPath: string): AlbumListing | undefined;
  item(albumPath: string, name: string): MediaItem | undefined;
}
