import type { Context, Next } from 'koa';
import helmet from 'helmet';
import { HELMET_OPTIONS, hstsHeader, PERMISSIONS_POLICY, ROBOTS_TAG } from '../guard/index.js';

const helmetHeaders = helmet(HELMET_OPTIONS);

/** Security and privacy headers on every response, errors and 404s included (helmet does the work). */
export function securityHeaders() {
  return async function headers(ctx: Context, next: Next): Promise<void> {
    await new Promise<void>((resolve, reject) => helmetHeaders(ctx.req, ctx.res, (error?: unknown) => (error ? reject(error) : resolve())));
    ctx.set('X-Robots-Tag', ROBOTS_TAG);
    ctx.set('Permissions-Policy', PERMISSIONS_POLICY);
    const hsts = hstsHeader(ctx.secure);
    if (hsts !== undefined) ctx.set('Strict-Transport-Security', hsts);
    await next();
  };
}
