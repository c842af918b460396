import type { Context } from 'koa';

/** The origin this site is served from: the configured public URL, else what the request says. */
export function ownOrigin(site: Pick<Context, 'protocol' | 'host'>, publicUrl: string | undefined): string {
  return publicUrl ?? `${site.protocol}://${site.host}`;
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

const SITE = 'http://keepsake.invalid';

/**
 * A `next` target only when it is a path on this site, judged on what the browser will make of
 * it: the text is normalised as a URL (so `/.//evil.example/` becomes `//evil.example/`, which a
 * browser reads as another site) and the result must still be a path here. No backslash, no
 * control character (browsers drop tabs and newlines from URLs). Anything else is `/`.
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || /[\\\0-\x1f\x7f]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, SITE);
  } catch {
    return '/';
  }
  const target = `${url.pathname}${url.search}${url.hash}`;
  if (url.origin !== SITE || !target.startsWith('/') || target.startsWith('//')) return '/';
  return target;
}
