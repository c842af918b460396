import { createHmac, timingSafeEqual } from 'node:crypto';
import { boundedMemo } from '../bounded-memo.js';

/*
 * The signer of cookies, in Keygrip's place. Koa hands its `keys` to the cookies package, which,
 * given an array, makes a new Keygrip on every request, and Keygrip compares signatures by HMAC-ing
 * both under a fresh random key: a randomBytes() call per request, measured as 3% of serving a
 * cached photo. This signs exactly as Keygrip does (HMAC-SHA1, base64url), so existing cookies
 * stay valid, and compares with crypto.timingSafeEqual.
 */

export interface CookieSigner {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  /** The index of the key that made `digest`, or -1. */
  index(data: string, digest: string): number;
}

/** Cookies remembered as checked: a browser sends the same signed cookie with every photo it asks for. */
const CHECKED_KEPT = 10_000;

export function createCookieSigner(keys: readonly string[]): CookieSigner {
  if (keys.length === 0) throw new TypeError('keys: expected at least one cookie key, received none');
  const sign = (data: string, key: string) => createHmac('sha1', key).update(data).digest('base64url');
  const check = (data: string, digest: string) => {
    const given = Buffer.from(digest);
    return keys.findIndex((key) => {
      const expected = Buffer.from(sign(data, key));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  };
  // The same data and digest always check the same way under these keys, so a pair found good is
  // remembered (a signature that fails is checked afresh each time: nothing to gain by keeping it).
  // A newline joins the two halves: a header holds none, and anything else is checked directly.
  const remembered = boundedMemo(
    (pair) => {
      const cut = pair.lastIndexOf('\n');
      return check(pair.slice(0, cut), pair.slice(cut + 1));
    },
    { limit: CHECKED_KEPT, maxKeyLength: 512, keep: (found) => found !== -1 },
  );
  const index = (data: string, digest: string) => (data.includes('\n') || digest.includes('\n') ? check(data, digest) : remembered(`${data}\n${digest}`));
  return { sign: (data) => sign(data, keys[0]!), verify: (data, digest) => index(data, digest) !== -1, index };
}
