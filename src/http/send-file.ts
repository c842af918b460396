import path from 'node:path';
import type { Context } from 'koa';
import send from 'send';
import { commitSession } from './session.js';

export interface SendOptions {
  readonly cacheControl: string;
  readonly acceptRanges: boolean;
  /** With nginx in front (KEEPSAKE_ACCEL=nginx): its internal location for `root`; nginx sends the bytes. */
  readonly accelPrefix?: string | undefined;
}

function encodeSegments(relativePath: string): string {
  return relativePath.split(path.sep).map(encodeURIComponent).join('/');
}

/**
 * Streams a file that resolveInside() already vetted, with `send` doing conditional GET,
 * ETag/Last-Modified and Range. Rejects (for the error middleware) only while nothing has
 * been written; a failure mid-stream aborts the response so no short 200 looks whole.
 */
export async function sendFile(ctx: Context, root: string, absolutePath: string, options: SendOptions): Promise<void> {
  ctx.set('Cache-Control', options.cacheControl);
  if (options.accelPrefix !== undefined) {
    // nginx keeps Cache-Control and cookies, and does conditional GET and Range itself.
    ctx.set('X-Accel-Redirect', `${options.accelPrefix}${encodeSegments(path.relative(root, absolutePath))}`);
    // nginx keeps the upstream Content-Type when it follows the redirect.
    ctx.type = path.extname(absolutePath);
    ctx.status = 200;
    ctx.body = '';
    return;
  }
  await commitSession(ctx);
  return new Promise<void>((resolve, reject) => {
    let headersSent = false;
    const stream = send(ctx.req, encodeSegments(path.relative(root, absolutePath)), {
      root,
      index: false,
      dotfiles: 'deny',
      etag: true,
      lastModified: true,
      cacheControl: false,
      acceptRanges: options.acceptRanges,
    });
    stream.on('headers', () => {
      headersSent = true;
    });
    stream.on('directory', () => reject(Object.assign(new Error('is a directory'), { code: 'EISDIR' })));
    stream.on('error', (error: Error) => {
      if (!headersSent) reject(error);
      else ctx.res.destroy(error);
    });
    ctx.res.once('finish', () => resolve());
    ctx.res.once('close', () => resolve());
    ctx.respond = false;
    // Koa starts every response as 404; send only sets the status for 206/304/4xx.
    ctx.res.statusCode = 200;
    stream.pipe(ctx.res);
  });
}
