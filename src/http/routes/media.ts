import path from 'node:path';
import type { Context, Next } from 'koa';
import { isAlbumGranted } from '../../auth/index.js';
import { mediaTypeOf } from '../../library/media-types.js';
import { resolveInside } from '../../paths.js';
import { parseMediaPath } from '../media-path.js';
import { respondNotFound } from '../not-found.js';
import { sendFile } from '../send-file.js';
import { visitorOf, type Visitor } from '../session.js';

export interface MediaDeps {
  readonly webRoot: string;
  /** Real (symlink-free) absolute path of the media root. */
  readonly mediaRoot: string;
  /** Serves a derivative variant; false when the URL names none this visitor may see. */
  /** nginx's internal location for the media root, when it sends the bytes (X-Accel-Redirect). */
  readonly accelPrefix?: string | undefined;
  readonly serveDerivative: (ctx: Context, visitor: Visitor, variant: string, encodedRest: string) => Promise<boolean>;
}

export interface MediaRequest {
  readonly visitor: Visitor;
  readonly variant: string;
  readonly encodedRest: string;
}

/**
 * Guards, in order: a media-shaped URL, a session that owns the token, a variant its key
 * may fetch, a path that resolves (through the token link, so through the key's view)
 * to a media file inside the media root, in a granted album. Any "no" is the same 404.
 */
export function mediaRoutes(deps: MediaDeps) {
  async function serveOriginal(ctx: Context, request: MediaRequest): Promise<void> {
    const { visitor, variant, encodedRest } = request;
    const base = path.join(deps.webRoot, visitor.token);
    const real = await resolveInside(base, `${variant}/${encodedRest}`, [deps.mediaRoot]);
    const type = mediaTypeOf(real);
    const albumPath = path.relative(deps.mediaRoot, path.dirname(real)).split(path.sep).join('/');
    if (type === undefined || (variant === 'video' && type !== 'video') || !isAlbumGranted(visitor.albums, albumPath)) {
      respondNotFound(ctx);
      return;
    }
    await sendFile(ctx, deps.mediaRoot, real, { cacheControl: 'private, max-age=3600', acceptRanges: true, accelPrefix: deps.accelPrefix });
  }

  return async function media(ctx: Context, next: Next): Promise<void> {
    const media = parseMediaPath(ctx.path);
    if (media === undefined) return next();
    const { token, variant, encodedRest } = media;
    const visitor = visitorOf(ctx);
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || visitor === undefined || visitor.token !== token) {
      respondNotFound(ctx);
      return;
    }
    ctx.state['media'] = { visitor, variant, encodedRest } satisfies MediaRequest;
    if (variant === 'video' || (variant === 'original' && visitor.canDownloadOriginals)) {
      await serveOriginal(ctx, { visitor, variant, encodedRest });
      return;
    }
    if (variant !== 'original' && (await deps.serveDerivative(ctx, visitor, variant, encodedRest))) return;
    respondNotFound(ctx);
  };
}
