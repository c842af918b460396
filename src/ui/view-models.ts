/** What pages show, in the same shape the JSON API returns (the http layer builds both). */
export interface AlbumView {
  readonly path: string;
  readonly title: string;
  readonly photoCount: number;
  readonly albumCount: number;
  readonly cover: string | null;
  readonly firstTakenAt: string | null;
  readonly lastTakenAt: string | null;
  /** When a photo was last added to the album or its sub-albums (ISO), null when it holds none. */
  readonly lastAddedAt?: string | null;
}

export interface ItemView {
  readonly name: string;
  readonly type: 'image' | 'video';
  readonly width: number;
  readonly height: number;
  readonly takenAt: string;
  /** A video's length (null when unknown); absent for photos. */
  readonly durationSeconds?: number | null;
  readonly urls: Readonly<Record<string, string>>;
  /** Where it was taken, as much as the key may know (absent for most keys). */
  readonly place?: PlaceView;
  /** Camera, lens and exposure from the catalogue's allow-list, raw values; absent when none. */
  readonly info?: {
    readonly camera?: string;
    readonly lens?: string;
    readonly exposureSeconds?: number;
    readonly fNumber?: number;
    readonly iso?: number;
    readonly focalLengthMm?: number;
    readonly focalLength35mm?: number;
  };
  /** A ThumbHash (base64) of the photo, painted until its thumbnail arrives; absent until made. */
  readonly placeholder?: string;
}

export interface PlaceView {
  readonly latitude: number;
  readonly longitude: number;
  readonly precision: 'city' | 'exact';
}

/** One entry of the places list: where, how many photos, in which albums, when. */
export interface PlaceEntryView extends PlaceView {
  readonly photoCount: number;
  readonly albums: readonly string[];
  readonly firstTakenAt: string;
  readonly lastTakenAt: string;
}

export interface VisitorView {
  readonly label: string;
  readonly token: string;
  readonly canDownloadOriginals: boolean;
  /** What the key may be told of places; anything but `none` shows the Places page. */
  readonly location?: string;
}
