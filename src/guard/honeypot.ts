import { createHmac } from 'node:crypto';
import { mediaUrl, ORIGINAL, parseMediaUrl } from '../media-contract.js';
import { refuse, type Refusal } from './facts.js';

/*
 * The honeypot: one URL per session that looks like any original under the session's token —
 * `/<token>/original/Lakeside%20Weekend%202018/IMG_4821.jpg` — but leads nowhere. The pages link
 * it from a hidden, aria-hidden `<a rel="nofollow">` (never an <img>, which browsers load even
 * when hidden, and never in a prefetch or viewer list), so no person and no browser asks for it
 * on its own. Whoever does is walking the page's links: a scraper, and the session ends.
 *
 * The name comes from an HMAC of the token under a server secret, so keepsake recognises it
 * without storing anything, and a scraper cannot tell it from a real album without the secret.
 * Names are drawn from about 35 million (3,840 album names × 9,000 file numbers) so they would
 * rarely match a real photo; the http layer should still leave the link out of a page when the
 * catalogue holds that very path.
 */

const PLACES = [
  'Lakeside', 'Seaside', 'Mountain', 'Garden', 'Harbour', 'Forest', 'Riverside', 'Countryside',
  'Island', 'Village', 'Cabin', 'Meadow', 'Valley', 'Orchard', 'Canyon', 'Coast',
] as const;

const OCCASIONS = [
  'Weekend', 'Holiday', 'Picnic', 'Trip', 'Reunion', 'Birthday', 'Camping', 'Wedding',
  'Summer', 'Winter', 'Easter', 'Christmas', 'Hike', 'Visit', 'Getaway', 'Party',
] as const;

const FIRST_YEAR = 2010;
const YEARS = 15;
const MIN_SECRET_BYTES = 16;

function checkSecret(secret: string | Uint8Array): void {
  const length = typeof secret === 'string' ? Buffer.byteLength(secret) : secret.byteLength;
  if (length < MIN_SECRET_BYTES) {
    throw new TypeError(`secret: expected at least ${MIN_SECRET_BYTES} bytes of server secret, received ${length}`);
  }
}

function pick<T>(list: readonly T[], byte: number): T {
  return list[byte % list.length] as T;
}

/** The album and file name of a token's honeypot, unencoded. */
function honeypotNames(token: string, secret: string | Uint8Array): { album: string; file: string } {
  checkSecret(secret);
  const digest = createHmac('sha256', secret).update(`keepsake honeypot v1\n${token}`).digest();
  const album = `${pick(PLACES, digest[0] ?? 0)} ${pick(OCCASIONS, digest[1] ?? 0)} ${FIRST_YEAR + ((digest[2] ?? 0) % YEARS)}`;
  const file = `IMG_${1000 + (digest.readUInt16BE(3) % 9000)}.jpg`;
  return { album, file };
}

/** The honeypot URL for a session's token, encoded like every other media URL. */
export function honeypotPath(token: string, secret: string | Uint8Array): string {
  const { album, file } = honeypotNames(token, secret);
  return mediaUrl(token, ORIGINAL, album, file);
}

/** What to log and count when the honeypot is requested: the same 404 as any dead link. */
export const HONEYPOT_REFUSAL: Refusal = Object.freeze(refuse('honeypot', 404, 'honeypot link requested: a scraper walking the page'));

/** True when `path` is the honeypot of `token`, however its letters are percent-encoded. */
export function isHoneypot(path: string, token: string, secret: string | Uint8Array): boolean {
  const url = parseMediaUrl(path);
  if (url === undefined || url.token !== token || url.variant !== ORIGINAL) return false;
  const { album, file } = honeypotNames(token, secret);
  return url.albumPath === album && url.name === file;
}
