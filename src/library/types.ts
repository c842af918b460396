import type { MediaKind } from '../media-contract.js';
import type { VerifiedFile } from '../paths.js';
import type { PhotoInfo } from './photo-info.js';

export interface MediaItem {
  /** The file name inside its album. */
  readonly name: string;
  /** The album's path relative to the media root, `/`-separated ('' for loose files at the top). */
  readonly albumPath: string;
  readonly type: MediaKind;
  readonly size: number;
  readonly mtimeMs: number;
  /** Pixel size after EXIF orientation (0 when unknown, as for videos). */
  readonly width: number;
  readonly height: number;
  /** Epoch ms: EXIF DateTimeOriginal (a video: its recording date) when present, else the file's mtime. */
  readonly takenAt: number;
  /** A video's length in ms (0 when ffprobe could not read it); undefined for photos and unprobed videos. */
  readonly durationMs?: number;
  /** Where it was taken (EXIF GPS, a video's location tag); shown only as a key's location policy allows. */
  readonly position?: { readonly latitude: number; readonly longitude: number };
  /** A Motion Photo's appended MP4: its length at the end of the file (motion-photos.ts). */
  readonly motionBytes?: number;
  /** A photo's camera, lens and exposure, from the allow-list only (photo-info.ts); absent when none. */
  readonly info?: PhotoInfo;
  /** A photo's ThumbHash, base64 (placeholder-pass.ts); absent until the background pass made it, and for videos. */
  readonly placeholder?: string;
  /** Epoch ms the catalogue first saw this path; set by the catalogue, so absent on items not read from it yet. */
  readonly addedAt?: number;
  /** In an album's listing, a Live Photo's short video (companions.ts); never stored. */
  readonly motion?: MediaItem;
  /** In an album's listing, the camera's RAW file beside this JPEG (companions.ts); never stored. */
  readonly raw?: MediaItem;
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
  /** The latest time a photo of the album or its sub-albums was first catalogued. */
  readonly lastAddedAt: number | undefined;
}

export interface AlbumListing {
  readonly album: AlbumSummary;
  readonly albums: readonly AlbumSummary[];
  readonly items: readonly MediaItem[];
}

/** An album where it appears and where it really is (they differ for an album reached through a link). */
export interface AlbumLocation {
  readonly path: string;
  /** Relative to the media root, `/`-separated. */
  readonly realPath: string;
}

/** What the HTTP layer and the views need from the media catalogue. */
export interface Library {
  /** Every album path (nested ones included), sorted. */
  albumPaths(): readonly string[];
  /** Every album with where it really is, sorted by path; an album whose real place is not known yet is left out. */
  albums(): readonly AlbumLocation[];
  album(albumPath: string): AlbumLocation | undefined;
  summary(albumPath: string): AlbumSummary | undefined;
  listing(albumPath: string): AlbumListing | undefined;
  item(albumPath: string, name: string): MediaItem | undefined;
  /**
   * Opens an item's original, proven on the open file to lie inside its album's real folder:
   * a folder swapped for a link, before or during the open, never makes another file readable.
   */
  openOriginal(item: Pick<MediaItem, 'albumPath' | 'name'>): Promise<VerifiedFile>;
  /** The whole original, read from the file openOriginal checked. */
  readOriginal(item: Pick<MediaItem, 'albumPath' | 'name'>): Promise<Buffer>;
}
