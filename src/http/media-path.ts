/** `/<token>/<variant>/<path…>`: the only shape of a media URL. */
const MEDIA_URL = /^\/([A-Za-z]{11,17})\/([a-z]+)\/(.+)$/;

export interface MediaPath {
  readonly token: string;
  readonly variant: string;
  /** The rest of the path, still percent-encoded. */
  readonly encodedRest: string;
}

export function parseMediaPath(path: string): MediaPath | undefined {
  const match = MEDIA_URL.exec(path);
  if (match === null) return undefined;
  return { token: match[1]!, variant: match[2]!, encodedRest: match[3]! };
}
