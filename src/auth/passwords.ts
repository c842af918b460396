import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { customAlphabet } from 'nanoid';

// 2^15 × 8 × 128 bytes = 32 MiB per hash: slow for an attacker, fine for a handful of logins.
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
/** Longer passwords are refused when a key is made, and cut here at login: no hash of megabytes. */
export const MAX_PASSWORD_LENGTH = 1024;

function deriveKey(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cost = options.N ?? COST.N;
    const maxmem = 256 * cost * (options.r ?? COST.r) + 1024 * 1024;
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...options, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes a password with scrypt and a fresh per-key salt: `scrypt$log2N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await deriveKey(password.slice(0, MAX_PASSWORD_LENGTH), salt, COST);
  return ['scrypt', Math.log2(COST.N), COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Checks a password against a stored hash in constant time (for a given hash). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, logN, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const candidate = await deriveKey(password.slice(0, MAX_PASSWORD_LENGTH), Buffer.from(salt, 'base64url'), {
    N: 2 ** Number(logN),
    r: Number(r),
    p: Number(p),
  });
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

/**
 * A password's lookup tag: scrypt at the same cost under one salt for the whole site (a secret
 * in the state dir), so a login finds its key with one hash, however many keys there are. An
 * offline guess still costs a full scrypt, and without the salt the tags cannot be tested at all.
 */
export async function lookupTag(password: string, siteSalt: string): Promise<string> {
  const key = await deriveKey(password.slice(0, MAX_PASSWORD_LENGTH), Buffer.from(`keepsake key tag\n${siteSalt}`), COST);
  return key.toString('base64url');
}

const readableAlphabet = customAlphabet('abcdefghjkmnpqrstuvwxyz23456789', 16);

/** A generated shared password: 16 unambiguous characters in groups of four (~79 bits). */
export function generatePassword(): string {
  return readableAlphabet().match(/.{4}/g)!.join('-');
}
