import { createHash } from 'node:crypto';

/** The cookie that binds a token to the browser for a static server (nginx cannot read sessions). */
export const LINK_COOKIE = 'keepsake_link';

/**
 * The cookie's value: MD5 over token and secret, base64url without padding — exactly what
 * nginx's `secure_link_md5 "$token$secret"` computes, so nginx can check it with no code.
 * Knowing a URL (and so the token) is not enough to forge it.
 */
export function linkCookieValue(token: string, secret: string): string {
  return createHash('md5').update(`${token}${secret}`).digest('base64url');
}
