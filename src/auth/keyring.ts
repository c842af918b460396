import { UserError } from '../errors.js';
import type { KeyRecord, KeyStore } from '../store/index.js';
import { normalisePattern } from './grants.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';

export class KeyError extends UserError {
  declare readonly code: 'BAD_LABEL' | 'KEY_EXISTS' | 'KEY_NOT_FOUND' | 'WEAK_PASSWORD' | 'BAD_EXPIRY' | 'PASSWORD_TAKEN';

  constructor(code: KeyError['code'], message: string) {
    super(code, message);
  }
}

export interface KeyInput {
  readonly label: string;
  readonly password?: string | undefined;
  readonly albums: readonly string[];
  readonly canDownloadOriginals: boolean;
  readonly expiresAt?: number | null | undefined;
}

export type LoginOutcome =
  | { readonly outcome: 'accepted'; readonly key: KeyRecord }
  | { readonly outcome: 'rejected' }
  | { readonly outcome: 'expired'; readonly key: KeyRecord };

const LABEL = /^[\p{L}\p{N}][\p{L}\p{N} _.-]{0,63}$/u;
const MIN_PASSWORD_LENGTH = 8;
// Compared against when there is no key at all, so an empty keyring answers as slowly as a full one.
let placeholderHash: Promise<string> | undefined;

export type Keyring = ReturnType<typeof createKeyring>;

/** Shared passwords: adding (hashed, never stored in clear), listing, removing, and checking a login. */
export function createKeyring(keys: KeyStore, now: () => number = Date.now) {
  return {
    /** Adds a key; returns it with the password in clear, to be shown once. */
    async add(input: KeyInput): Promise<{ key: KeyRecord; password: string }> {
      const label = input.label.trim();
      if (!LABEL.test(label)) {
        throw new KeyError('BAD_LABEL', `label ${JSON.stringify(input.label)}: expected 1–64 letters, digits, spaces, _ . or -`);
      }
      if ((await keys.byLabel(label)) !== undefined) throw new KeyError('KEY_EXISTS', `a key labelled "${label}" already exists`);
      const password = input.password ?? generatePassword();
      if (password.length < MIN_PASSWORD_LENGTH) {
        throw new KeyError('WEAK_PASSWORD', `password: expected at least ${MIN_PASSWORD_LENGTH} characters, got ${password.length}`);
      }
      if (input.expiresAt != null && input.expiresAt <= now()) {
        throw new KeyError('BAD_EXPIRY', `expiry ${new Date(input.expiresAt).toISOString()}: expected a time in the future`);
      }
      const albums = input.albums.length === 0 ? ['*'] : input.albums.map(normalisePattern);
      const key = await keys.add({
        label,
        passwordHash: await hashPassword(password),
        albums,
        canDownloadOriginals: input.canDownloadOriginals,
        expiresAt: input.expiresAt ?? null,
        createdAt: now(),
      });
      return { key, password };
    },
    list: (): Promise<KeyRecord[]> => keys.all(),
    byLabel: (label: string): Promise<KeyRecord | undefined> => keys.byLabel(label),
    count: (): Promise<number> => keys.count(),
    async remove(label: string): Promise<KeyRecord> {
      const key = await keys.byLabel(label);
      if (key === undefined) throw new KeyError('KEY_NOT_FOUND', `no key labelled "${label}"`);
      await keys.remove(key.id);
      return key;
    },
    /**
     * Checks a password against every key, always all of them, so the time taken does not
     * tell which key (if any) matched.
     */
    async authenticate(password: string): Promise<LoginOutcome> {
      const all = await keys.all();
      placeholderHash ??= hashPassword(generatePassword());
      const hashes = all.length > 0 ? all.map((key) => key.passwordHash) : [await placeholderHash];
      const results = await Promise.all(hashes.map((hash) => verifyPassword(password, hash)));
      const key = all.find((_, index) => results[index] === true);
      if (key === undefined) return { outcome: 'rejected' };
      if (key.expiresAt !== null && key.expiresAt <= now()) return { outcome: 'expired', key };
      return { outcome: 'accepted', key };
    },
  };
}
