import type { KeyRecord, ShareRecord } from '../store/index.js';
import type { ViewSpec, Views } from './views.js';

export function keyViewName(keyId: number): string {
  return `key-${keyId}`;
}

export function shareViewName(shareId: string): string {
  return `share-${shareId}`;
}

/** The variants a grant may fetch: every derivative, and originals only when allowed. */
export function variantsFor(canDownloadOriginals: boolean, derivativeVariants: readonly string[]): string[] {
  return canDownloadOriginals ? [...derivativeVariants, 'original'] : [...derivativeVariants];
}

export function keyViewSpec(key: KeyRecord, derivativeVariants: readonly string[]): ViewSpec {
  return { name: keyViewName(key.id), albums: key.albums, variants: variantsFor(key.canDownloadOriginals, derivativeVariants) };
}

export function shareViewSpec(share: ShareRecord, derivativeVariants: readonly string[]): ViewSpec {
  return { name: shareViewName(share.id), albums: [share.album], variants: variantsFor(share.canDownloadOriginals, derivativeVariants) };
}

/**
 * Makes the view of every key and every open share match the current albums, and removes
 * the views of keys and shares that are gone.
 */
export async function syncGrantViews(
  views: Views,
  grants: { keys: readonly KeyRecord[]; shares: readonly ShareRecord[] },
  albumPaths: readonly string[],
  derivativeVariants: readonly string[],
): Promise<void> {
  const specs = [
    ...grants.keys.map((key) => keyViewSpec(key, derivativeVariants)),
    ...grants.shares.map((share) => shareViewSpec(share, derivativeVariants)),
  ];
  for (const spec of specs) await views.sync(spec, albumPaths);
  const wanted = new Set(specs.map((spec) => spec.name));
  for (const name of await views.names()) {
    if (!wanted.has(name)) await views.remove(name);
  }
}
