import { randomInt } from 'node:crypto';
import { customAlphabet } from 'nanoid';

/** The only names the sweeper may ever delete from the web root. */
export const TOKEN_PATTERN = /^[A-Za-z]{11,17}$/;

const letters = customAlphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 17);

/** A new session token: 11–17 letters from a CSPRNG, its length itself random. */
export function newToken(): string {
  return letters(randomInt(11, 18));
}

export function isToken(name: string): boolean {
  return TOKEN_PATTERN.test(name);
}
