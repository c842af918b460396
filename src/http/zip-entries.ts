import type { AlbumListing, Library, MediaItem } from '../library/index.js';
import { encodePath, ORIGINAL, parseMediaUrl, PLAYABLE, VIDEO } from '../media-contract.js';
import { presentItem, type DerivativeNaming } from './media-urls.js';
import { visibleListing } from './routes/albums-api.js';
import { authorise, type MediaDeps, type MediaTarget } from './routes/media.js';
import type { Visitor } from './session.js';

/*
 * What an album's ZIP holds, decided before a byte is sent: per item, the one URL the album page
 * would offer this visitor for it (the original where the key allows originals, else the `large`
 * copy of a photo and the playable copy of a video; a Live Photo's clip as a video of its own),
 * passed through the media route's own guards.
 * An entry is therefore exactly what this visitor could fetch one by one, and nothing else.
 */

export interface ZipEntry {
  /** Its path inside the archive, `/`-separated. */
  readonly name: string;
  readonly target: MediaTarget;
}

/** The variant of a photo a key without originals downloads. */
export const DOWNLOAD_VARIANT = 'large';

export interface ZipPlanDeps {
  readonly library: Library;
  readonly naming: DerivativeNaming;
  readonly media: MediaDeps;
}

/** `large` where it is configured, else the last picture preset (the presets run smallest first). */
function pictureVariant(naming: DerivativeNaming): string | undefined {
  if (naming.variants.includes(DOWNLOAD_VARIANT)) return DOWNLOAD_VARIANT;
  return naming.variants.filter((variant) => variant !== PLAYABLE).at(-1);
}

/** The URL the album page offers for this item, for a download: as presentItem names them (a RAW+JPEG pair's original is the RAW). */
function downloadUrl(visitor: Visitor, item: MediaItem, naming: DerivativeNaming): string | undefined {
  const urls: Record<string, string | undefined> = presentItem(visitor, item, naming).urls;
  if (visitor.canDownloadOriginals) return urls[ORIGINAL];
  if (item.type === 'video') return urls[PLAYABLE] ?? urls[VIDEO];
  const variant = pictureVariant(naming);
  return variant === undefined ? undefined : urls[variant];
}

/** Characters Windows refuses in a file name (and control characters): an archive must unpack everywhere. */
const UNPORTABLE = /[<>:"|?*\\\u0000-\u001f\u007f]/g;

function portable(name: string): string {
  return name.replace(UNPORTABLE, '_').replace(/[. ]+$/, '_');
}

function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
}

/** The entry's file name: the original's own, or the original's base name with the copy's real extension (`beach.webp`). */
export function entryFileName(item: Pick<MediaItem, 'name'>, servedName: string, isOriginal: boolean): string {
  if (isOriginal) return portable(item.name);
  return portable(`${splitExtension(item.name)[0]}${splitExtension(servedName)[1]}`);
}

/** Claims `wanted` in a folder, or `name (2).ext`, `name (3).ext`…; case-insensitively, as Windows and macOS unpack. */
export function claimName(taken: Set<string>, wanted: string): string {
  const [base, extension] = splitExtension(wanted);
  let name = wanted;
  for (let copy = 2; taken.has(name.toLowerCase()); copy += 1) name = `${base} (${copy})${extension}`;
  taken.add(name.toLowerCase());
  return name;
}

/** The item's entry target, or undefined when this visitor may fetch nothing of it. */
function targetOf(visitor: Visitor, item: MediaItem, deps: ZipPlanDeps): { target: MediaTarget; servedName: string } | undefined {
  const href = downloadUrl(visitor, item, deps.naming);
  const url = href === undefined ? undefined : parseMediaUrl(href);
  if (url === undefined) return undefined;
  const verdict = authorise(url, visitor, 'GET', deps.media);
  return 'refused' in verdict ? undefined : { target: verdict, servedName: url.name };
}

/** Every entry of the album and of its visible sub-albums (as folders), in the album page's order. */
export function planAlbumZip(listing: AlbumListing, visitor: Visitor, deps: ZipPlanDeps): ZipEntry[] {
  const entries: ZipEntry[] = [];
  const walk = (album: AlbumListing, folder: string): void => {
    const taken = new Set<string>();
    // A Live Photo's clip goes beside its photo, as the viewer would play or download it.
    for (const item of album.items.flatMap((listed) => (listed.motion === undefined ? [listed] : [listed, listed.motion]))) {
      const found = targetOf(visitor, item, deps);
      if (found === undefined) continue;
      // The target's item: for a RAW+JPEG pair's original, the RAW.
      const wanted = entryFileName(found.target.item, found.servedName, found.target.rule.source === 'media-root');
      entries.push({ name: `${folder}${claimName(taken, wanted)}`, target: found.target });
    }
    for (const summary of album.albums) {
      // Checked again like a page of its own: a sub-album reached through a link shows only where its target is granted.
      const sub = visibleListing(deps.library, visitor, encodePath(summary.path));
      if (sub !== undefined) walk(sub, `${folder}${claimName(taken, portable(summary.path.split('/').at(-1)!))}/`);
    }
  };
  walk(listing, '');
  return entries;
}

/** RFC 5987's attr-char: what encodeURIComponent leaves alone, less `'`, `(`, `)` and `*`. */
function encodeRfc5987(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `Content-Disposition` for `<title>.zip`: a plain ASCII name, and the exact name as RFC 5987 `filename*` when they differ. */
export function attachmentHeader(title: string): string {
  const file = `${title === '' ? 'album' : title}.zip`;
  const ascii = file
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return ascii === file ? `attachment; filename="${file}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(file)}`;
}
