import type { KeyRecord } from '../store/index.js';
import type { ViewSpec, Views } from './views.js';

export function keyViewName(keyId: number): string {
  return `key-${keyId}`;
}

/** The variants a grant may fetch: every derivative, and originals only when allowed. */
export function variantsFor(canDownloadOriginals: boolean, derivativeVariants: readonly string[]): string[] {
  return canDownloadOriginals ? [...derivativeVariants, 'original'] : [...derivativeVariants];
}

export function keyViewSpec(key: KeyRecord, derivativeVariants: readonly string[]): ViewSpec {
  return {
    name: keyViewName(key.id),
    albums: key.albums,
    variants: variantsFor(key.canDownloadOriginals, derivativeVariants),
  };
}

/**
 * Makes every key's view match the current albums, and removes views of keys that are
 * gone (share views are left to their own owner).
 */
export async function syncKeyViews(
  views: Views,
  keys: readonly KeyRecord[],
  albumPaths: readonly string[],
  derivativeVariants: readonly string[],
): Promise<void> {
  const wanted = new Set<string>();
  for (const key of keys) {
    const spec = keyViewSpec(key, derivativeVariants);
    wanted.add(spec.name);
    await views.sync(spec, albumPaths);
  }
  for (const name of await views.names()) {
    if (name.startsWith('key-') && !wanted.has(name)) await views.remove(name);
  }
}
