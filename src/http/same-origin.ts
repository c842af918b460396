import type { Context } from 'koa';

/** The origin this site is served from: the configured public URL, else what the request says. */
export function ownOrigin(ctx: Context, publicUrl: string | undefined): string {
  return publicUrl ?? `${ctx.protocol}://${ctx.host}`;
}

/**
 * A state-changing request is accepted only from our own pages: a present Origin must be
 * ours; without one, a browser's `Sec-Fetch-Site` must not say cross-site. Clients that
 * send neither (scripts, the CLI's tests) are not browsers and carry no ambient cookie risk.
 */
export function isSameOriginRequest(ctx: Context, publicUrl: string | undefined): boolean {
  const origin = ctx.get('Origin');
  if (origin !== '') return origin === ownOrigin(ctx, publicUrl);
  const site = ctx.get('Sec-Fetch-Site');
  return site === '' || site === 'same-origin' || site === 'none';
}

/** A `next` target only when it is a path on this site; anything else falls back to `/`. */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || /[\\\0\r\n]/.test(next)) return '/';
  try {
    const url = new URL(next, 'http://keepsake.invalid');
    if (url.origin !== 'http://keepsake.invalid') return '/';
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return '/';
  }
}
