import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/*
 * Share links in the spirit of lighttpd's mod_secdownload: the link itself carries what it
 * grants and until when, signed with HMAC-SHA256 under a server secret, so nothing can be
 * changed without the server noticing. `/s/<payload>.<signature>`, both base64url.
 *
 * The payload is signed, not encrypted: whoever holds the link can read the album name and the
 * expiry, which is what the link is for anyway. Counting uses and revoking links live in the
 * store (keyed by `id`); this module only signs and verifies.
 */

export interface ShareGrant {
  /** The store's id for this link: uses and revocation are counted against it. */
  readonly id: string;
  /** The album path the link opens, and nothing else. */
  readonly album: string;
  /** Epoch milliseconds; the session it opens ends no later. */
  readonly expiresAt: number;
  readonly canDownloadOriginals: boolean;
  /** How many times it may be opened; absent for unlimited. */
  readonly uses?: number | undefined;
}

export type ShareLinkCheck =
  | { readonly ok: true; readonly share: ShareGrant }
  | { readonly ok: false; readonly reason: 'tampered' | 'expired' | 'malformed' };

export const SHARE_PATH_PREFIX = '/s/';

const MIN_SECRET_BYTES = 16;
const MAX_PAYLOAD_CHARS = 2048;
const SHARE_PATH = /^\/s\/([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;

const payloadSchema = z.strictObject({
  v: z.literal(1),
  i: z.string().min(1),
  a: z.string().min(1),
  e: z.number().int(),
  o: z.boolean(),
  u: z.number().int().positive().optional(),
});

function checkSecret(secret: string | Uint8Array): void {
  const length = typeof secret === 'string' ? Buffer.byteLength(secret) : secret.byteLength;
  if (length < MIN_SECRET_BYTES) {
    throw new TypeError(`secret: expected at least ${MIN_SECRET_BYTES} bytes of server secret, received ${length}`);
  }
}

/** The signature of a payload; the label keeps these signatures apart from anything else the secret signs. */
function sign(payload: string, secret: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`keepsake share v1\n${payload}`).digest('base64url');
}

function checkGrant(grant: ShareGrant): void {
  const problems = [
    typeof grant.id === 'string' && grant.id !== '' ? undefined : `id: expected a non-empty string, received ${String(grant.id)}`,
    typeof grant.album === 'string' && grant.album !== '' ? undefined : `album: expected a non-empty album path, received ${String(grant.album)}`,
    Number.isSafeInteger(grant.expiresAt) ? undefined : `expiresAt: expected epoch milliseconds, received ${String(grant.expiresAt)}`,
    typeof grant.canDownloadOriginals === 'boolean' ? undefined : `canDownloadOriginals: expected true or false, received ${String(grant.canDownloadOriginals)}`,
    grant.uses === undefined || (Number.isSafeInteger(grant.uses) && grant.uses > 0) ? undefined : `uses: expected a positive integer, received ${String(grant.uses)}`,
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) throw new TypeError(`signShareLink: ${problems.join('; ')}`);
}

/** The path of a signed share link: `/s/<payload>.<signature>`. */
export function signShareLink(grant: ShareGrant, secret: string | Uint8Array): string {
  checkSecret(secret);
  checkGrant(grant);
  const data = { v: 1, i: grant.id, a: grant.album, e: grant.expiresAt, o: grant.canDownloadOriginals, ...(grant.uses === undefined ? {} : { u: grant.uses }) };
  const payload = Buffer.from(JSON.stringify(data)).toString('base64url');
  if (payload.length > MAX_PAYLOAD_CHARS) throw new TypeError(`album: expected a path short enough for a link, received ${grant.album.length} characters`);
  return `${SHARE_PATH_PREFIX}${payload}.${sign(payload, secret)}`;
}

function decodePayload(payload: string): ShareGrant | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined; // a validly signed payload that is not JSON: reported as malformed
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { i, a, e, o, u } = parsed.data;
  return { id: i, album: a, expiresAt: e, canDownloadOriginals: o, ...(u === undefined ? {} : { uses: u }) };
}

/**
 * Checks a share link's path. The signature is compared in constant time before the payload
 * is even decoded, so a forged payload teaches nothing. `now` is epoch milliseconds.
 */
export function verifyShareLink(path: string, secret: string | Uint8Array, now: number = Date.now()): ShareLinkCheck {
  checkSecret(secret);
  const match = path.length <= MAX_PAYLOAD_CHARS + 64 ? SHARE_PATH.exec(path) : null;
  const [, payload, signature] = match ?? [];
  if (payload === undefined || signature === undefined) return { ok: false, reason: 'malformed' };
  // Comparing the base64url text, not decoded bytes, also refuses other spellings of the same bytes.
  if (!timingSafeEqual(Buffer.from(signature), Buffer.from(sign(payload, secret)))) return { ok: false, reason: 'tampered' };
  const share = decodePayload(payload);
  if (share === undefined) return { ok: false, reason: 'malformed' };
  if (now >= share.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, share };
}
