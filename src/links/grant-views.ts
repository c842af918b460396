import type { AlbumPlace } from '../auth/index.js';
import type { KeyRecord, ShareRecord } from '../store/index.js';
import type { ViewSpec, Views } from './views.js';

export function keyViewName(keyId: number): string {
  return `key-${keyId}`;
}

/** The view of the admin's preview session: every album, those waiting for review included. */
export const PREVIEW_VIEW = 'review-admin';
export const PREVIEW_VIEW_SPEC: ViewSpec = Object.freeze({ name: PREVIEW_VIEW, albums: ['*'], canDownloadOriginals: true });

export function shareViewName(shareId: string): string {
  return `share-${shareId}`;
}

export function keyViewSpec(key: KeyRecord): ViewSpec {
  return { name: keyViewName(key.id), albums: key.albums, canDownloadOriginals: key.canDownloadOriginals };
}

export function shareViewSpec(share: ShareRecord): ViewSpec {
  return { name: shareViewName(share.id), albums: [share.album], canDownloadOriginals: share.canDownloadOriginals };
}

export interface Grants {
  readonly keys: readonly KeyRecord[];
  readonly shares: readonly ShareRecord[];
}

function viewNames(grants: Grants): Set<string> {
  return new Set([...grants.keys.map((key) => keyViewName(key.id)), ...grants.shares.map((share) => shareViewName(share.id))]);
}

/**
 * Makes the view of every key and every open share match the current albums (`withheld`: those
 * waiting for review, which no link may cover), and removes
 * the views of keys and shares that are gone. The grants are read again just before anything is
 * removed (`current`), so a key added meanwhile (by the command line, say) keeps its new view.
 */
export async function syncGrantViews(
  views: Views,
  current: () => Promise<Grants>,
  albums: readonly AlbumPlace[],
  withheld: readonly AlbumPlace[],
  previewAlbums?: readonly AlbumPlace[],
): Promise<void> {
  const grants = await current();
  for (const spec of [...grants.keys.map(keyViewSpec), ...grants.shares.map(shareViewSpec)]) await views.sync(spec, albums, withheld);
  // While an admin's preview session lives, its view holds the albums waiting for review too.
  if (previewAlbums !== undefined) await views.sync(PREVIEW_VIEW_SPEC, previewAlbums);
  const kept = previewAlbums === undefined ? viewNames(grants) : new Set([...viewNames(grants), PREVIEW_VIEW]);
  const unwanted = (await views.names()).filter((name) => !kept.has(name));
  if (unwanted.length === 0) return;
  const wanted = new Set([...viewNames(await current()), ...(previewAlbums === undefined ? [] : [PREVIEW_VIEW])]);
  for (const name of unwanted) if (!wanted.has(name)) await views.remove(name);
}
