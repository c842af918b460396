import type { Context, Next } from 'koa';
import helmet from 'helmet';
import { HELMET_OPTIONS, hstsHeader, PERMISSIONS_POLICY, ROBOTS_TAG } from '../guard/index.js';

/**
 * helmet's headers, worked out once: with these options they are the same on every response,
 * so helmet is run once against a stand-in response at start-up and its headers are kept.
 */
function helmetHeaderList(): Array<[string, string]> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: unknown) => void headers.set(name, String(value)),
    removeHeader: (name: string) => void headers.delete(name),
  };
  helmet(HELMET_OPTIONS)({} as never, response as never, (error?: unknown) => {
    if (error !== undefined) throw error;
  });
  return [...headers];
}

const STATIC_HEADERS: ReadonlyArray<readonly [string, string]> = Object.freeze([
  ...helmetHeaderList(),
  ['X-Robots-Tag', ROBOTS_TAG],
  ['Permissions-Policy', PERMISSIONS_POLICY],
] as const);

/** Every security and privacy header of a response, for a request over TLS (directly or through a trusted proxy) or not. */
export function securityHeaderList(secure: boolean): ReadonlyArray<readonly [string, string]> {
  const hsts = hstsHeader(secure);
  return hsts === undefined ? STATIC_HEADERS : [...STATIC_HEADERS, ['Strict-Transport-Security', hsts]];
}

const FLAT = { plain: securityHeaderList(false).flat(), secure: securityHeaderList(true).flat() };

/** The same, as writeHead takes a list: name and value in turn (the fast path's answers). */
export function securityHeadersFlat(secure: boolean): readonly string[] {
  return secure ? FLAT.secure : FLAT.plain;
}

/** Security and privacy headers on every response, errors and 404s included (helmet's, and ours). */
export function securityHeaders() {
  return async function headers(ctx: Context, next: Next): Promise<void> {
    for (const [name, value] of securityHeaderList(ctx.secure)) ctx.set(name, value);
    await next();
  };
}
