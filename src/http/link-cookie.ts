import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { boundedMemo } from '../bounded-memo.js';
import { LINK_COOKIE, linkCookieValue } from '../media-contract.js';

/*
 * The static server's link cookie (src/media-contract.ts): for nginx in front, only this browser
 * holds the proof that the token is its own. Scoped to Path=/<token>/, httpOnly, SameSite=Lax,
 * never signed by Koa (nginx checks it by its own hash). Written at login and at every renewal
 * with the session cookie, and again by any media answer whose request carried a cookie that no
 * longer proves its browser (a browser updated mid-session sends a new User-Agent).
 */

export interface LinkCookies {
  /** The value that proves `token` for a request with this User-Agent. */
  valueFor(token: string, userAgent: string): string;
  /** True when the request carries the cookie that proves `token` for its own User-Agent. */
  proves(request: IncomingMessage, token: string): boolean;
  set(ctx: Context, token: string, maxAgeMs: number): void;
}

/** Clears the cookie (its path is the token's, so it must be named); no secret needed. */
export function clearLinkCookie(ctx: Context, token: string): void {
  ctx.cookies.set(LINK_COOKIE, '', { path: `/${token}/`, httpOnly: true, sameSite: 'lax', expires: new Date(0), signed: false });
}

/** As the cookies package (Koa's) reads a cookie: the first `name=value`, quotes taken off. */
const LINK_COOKIE_PATTERN = new RegExp(`(?:^|;) *${LINK_COOKIE}=([^;]*)`);

function userAgentOf(request: IncomingMessage): string {
  return request.headers['user-agent'] ?? '';
}

/** Proofs remembered: every photo a browser asks for carries the same token and User-Agent. */
const PROOFS_KEPT = 4_096;

export function createLinkCookies(binding: { readonly secret: string; readonly policy: string }): LinkCookies {
  const compute = (token: string, userAgent: string) => linkCookieValue({ token, userAgent, secret: binding.secret, policy: binding.policy });
  // A token is letters only and a header holds no newline, so the newline splits the key again.
  const remembered = boundedMemo(
    (key) => {
      const cut = key.indexOf('\n');
      return compute(key.slice(0, cut), key.slice(cut + 1));
    },
    { limit: PROOFS_KEPT, maxKeyLength: 1024 },
  );
  const valueFor = (token: string, userAgent: string) => (token.includes('\n') ? compute(token, userAgent) : remembered(`${token}\n${userAgent}`));
  return {
    valueFor,
    proves(request, token) {
      const match = LINK_COOKIE_PATTERN.exec(request.headers.cookie ?? '');
      const sent = match === null ? undefined : match[1]!.replace(/^"(.*)"$/, '$1');
      return sent === valueFor(token, userAgentOf(request));
    },
    set(ctx, token, maxAgeMs) {
      ctx.cookies.set(LINK_COOKIE, valueFor(token, userAgentOf(ctx.req)), { path: `/${token}/`, httpOnly: true, sameSite: 'lax', maxAge: Math.max(0, maxAgeMs), signed: false });
    },
  };
}
