/** What pages show, in the same shape the JSON API returns (the http layer builds both). */
export interface AlbumView {
  readonly path: string;
  readonly title: string;
  readonly photoCount: number;
  readonly albumCount: number;
  readonly cover: string | null;
  readonly firstTakenAt: string | null;
  readonly lastTakenAt: string | null;
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
}

export interface VisitorView {
  readonly label: string;
  readonly token: string;
  readonly canDownloadOriginals: boolean;
}
