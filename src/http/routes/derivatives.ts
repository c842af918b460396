import path from 'node:path';
import type { Context } from 'koa';
import { isAlbumGranted } from '../../auth/index.js';
import type { Derivatives } from '../../derivatives/index.js';
import type { Library } from '../../library/index.js';
import { PathRejectedError, resolveInside, splitRequestPath } from '../../paths.js';
import { sendFile } from '../send-file.js';
import type { Visitor } from '../session.js';

export interface DerivativeRouteDeps {
  readonly webRoot: string;
  readonly mediaRoot: string;
  readonly cacheDir: string;
  readonly library: Library;
  readonly derivatives: Derivatives;
  readonly accelPrefix?: string | undefined;
}

// A derivative URL names its source's size, mtime and the preset, so its bytes never change.
const IMMUTABLE = 'private, max-age=31536000, immutable';

/**
 * `/<token>/<variant>/<album>/<source>.<hash>.<ext>`: checks the grant and that the name
 * matches the current source and preset (a stale URL is a 404), makes the file on a miss,
 * then serves it by resolving through the token link, like any other media.
 */
export function derivativeRoute(deps: DerivativeRouteDeps) {
  const { library, derivatives } = deps;
  return async function serveDerivative(ctx: Context, visitor: Visitor, variant: string, encodedRest: string): Promise<boolean> {
    if (!derivatives.variants.includes(variant)) return false;
    const segments = splitRequestPath(encodedRest);
    const leaf = segments.pop()!;
    const albumPath = segments.join('/');
    const parsed = derivatives.parseLeaf(leaf);
    if (parsed === undefined || !isAlbumGranted(visitor.albums, albumPath)) return false;
    const item = library.item(albumPath, parsed.sourceName);
    if (item === undefined || item.type !== 'image' || derivatives.leafFor(item, variant) !== leaf) return false;

    const throughLink = () => resolveInside(path.join(deps.webRoot, visitor.token), `${variant}/${encodedRest}`, [deps.cacheDir]);
    let file: string;
    try {
      file = await throughLink();
    } catch (error) {
      if (!(error instanceof PathRejectedError)) throw error;
      const source = await resolveInside(deps.mediaRoot, [...segments, parsed.sourceName].map(encodeURIComponent).join('/'), [deps.mediaRoot]);
      await derivatives.ensure({ absolutePath: source, albumPath, name: item.name, size: item.size, mtimeMs: item.mtimeMs }, variant, 'now');
      file = await throughLink();
    }
    await sendFile(ctx, deps.cacheDir, file, { cacheControl: IMMUTABLE, acceptRanges: false, accelPrefix: deps.accelPrefix });
    return true;
  };
}
