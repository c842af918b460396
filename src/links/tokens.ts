import { randomInt } from 'node:crypto';
import { customAlphabet } from 'nanoid';
import { TOKEN_LETTERS, TOKEN_MAX_LENGTH, TOKEN_MIN_LENGTH } from '../media-contract.js';

const letters = customAlphabet(TOKEN_LETTERS, TOKEN_MAX_LENGTH);

/** A new session token: letters from a CSPRNG, its length itself random within the contract's bounds. */
export function newToken(): string {
  return letters(randomInt(TOKEN_MIN_LENGTH, TOKEN_MAX_LENGTH + 1));
}
