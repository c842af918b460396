import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Where the browser files live, beside this module both in src/ (tests) and dist/ (built). */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

/**
 * Third-party browser files served beside ours, by the name pages ask for. PhotoSwipe's
 * minified ESM builds import nothing, so they load from any fingerprinted URL; the lightbox
 * is told the core's URL (see viewer.js).
 */
export function vendorAssets(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const photoswipeDist = path.dirname(require.resolve('photoswipe'));
  return {
    // ThumbHash's decoder (the same package the catalogue encodes with): placeholders in the grid.
    'thumbhash.js': require.resolve('thumbhash'),
    'photoswipe.js': path.join(photoswipeDist, 'photoswipe.esm.min.js'),
    'photoswipe-lightbox.js': path.join(photoswipeDist, 'photoswipe-lightbox.esm.min.js'),
    'photoswipe.css': path.join(photoswipeDist, 'photoswipe.css'),
  };
}

export interface AssetCatalogue {
  /** The fingerprinted URL of an asset by its file name, e.g. `/assets/gallery.3f9a0c1d.css`. */
  url(name: string): string;
  /** The asset behind a fingerprinted URL path, if any. */
  find(urlPath: string): Asset | undefined;
}

/** Reads every asset once at start and names it by content hash, so it can be cached forever. */
export function loadAssets(directory: string = DEFAULT_ASSETS_DIR, extra: Readonly<Record<string, string>> = {}): AssetCatalogue {
  const byName = new Map<string, string>();
  const byUrl = new Map<string, Asset>();
  const files: [string, string][] = [
    ...readdirSync(directory).map((name): [string, string] => [name, path.join(directory, name)]),
    ...Object.entries(extra),
  ];
  for (const [name, file] of files) {
    const extension = path.extname(name);
    const type = TYPES[extension];
    if (type === undefined) continue;
    const body = readFileSync(file);
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
    const url = `/assets/${path.basename(name, extension)}.${hash}${extension}`;
    byName.set(name, url);
    byUrl.set(url, { body, type });
  }
  return {
    url(name: string): string {
      const url = byName.get(name);
      if (url === undefined) throw new Error(`asset ${JSON.stringify(name)}: not found in ${directory}`);
      return url;
    },
    find: (urlPath: string) => byUrl.get(urlPath),
  };
}
