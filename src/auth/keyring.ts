import { UserError } from '../errors.js';
import type { KeyRecord, KeyStore } from '../store/index.js';
import { normalisePattern } from './grants.js';
import { createHashGate, type HashGate } from './hash-gate.js';
import { generatePassword, hashPassword, lookupTag, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords.js';

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

export interface KeyringOptions {
  /** The site-wide salt of lookup tags (`<stateDir>/secrets/key-tag-salt`). */
  readonly tagSalt: string;
  /** Password checks at once and waiting; default 2 and 8. */
  readonly hashing?: { readonly concurrency: number; readonly queue: number };
  readonly now?: () => number;
}

const LABEL = /^[\p{L}\p{N}][\p{L}\p{N} _.-]{0,63}$/u;
const MIN_PASSWORD_LENGTH = 8;
// Compared against when no key matches, so a wrong password costs as much as a right one.
let placeholderHash: Promise<string> | undefined;

export type Keyring = ReturnType<typeof createKeyring>;

/**
 * Shared passwords: adding (hashed, never stored in clear), listing, removing, and checking a
 * login. A login costs two hashes whatever the number of keys: the lookup tag (one scrypt under
 * the site's salt) finds the only key it can be, then that key's own hash confirms it; with no
 * candidate, a placeholder hash is checked instead, so a right and a wrong password take as long.
 * At most a few logins hash at once (see hash-gate.ts).
 */
export function createKeyring(keys: KeyStore, options: KeyringOptions) {
  const now = options.now ?? Date.now;
  const gate: HashGate = createHashGate(options.hashing ?? { concurrency: 2, queue: 8 });

  /** The key a password opens: by its tag, else (for keys made before tags) by each one's hash. */
  async function keyFor(password: string, tag: string): Promise<KeyRecord | undefined> {
    const tagged = await keys.byLookupTag(tag);
    if (tagged !== undefined) return (await verifyPassword(password, tagged.passwordHash)) ? tagged : undefined;
    const untagged = await keys.untagged();
    if (untagged.length === 0) {
      placeholderHash ??= hashPassword(generatePassword());
      await verifyPassword(password, await placeholderHash);
      return undefined;
    }
    for (const key of untagged) {
      if (!(await verifyPassword(password, key.passwordHash))) continue;
      await keys.setLookupTag(key.id, tag);
      return key;
    }
    return undefined;
  }

  function checkInput(input: KeyInput, label: string, password: string): void {
    if (!LABEL.test(label)) {
      throw new KeyError('BAD_LABEL', `label ${JSON.stringify(input.label)}: expected 1–64 letters, digits, spaces, _ . or -`);
    }
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw new KeyError('WEAK_PASSWORD', `password: expected ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, got ${password.length}`);
    }
    if (input.expiresAt != null && input.expiresAt <= now()) {
      throw new KeyError('BAD_EXPIRY', `expiry ${new Date(input.expiresAt).toISOString()}: expected a time in the future`);
    }
  }

  return {
    /** Adds a key; returns it with the password in clear, to be shown once. Refuses a password another key has. */
    async add(input: KeyInput): Promise<{ key: KeyRecord; password: string }> {
      const label = input.label.trim();
      const password = input.password ?? generatePassword();
      checkInput(input, label, password);
      if ((await keys.byLabel(label)) !== undefined) throw new KeyError('KEY_EXISTS', `a key labelled "${label}" already exists`);
      const albums = input.albums.length === 0 ? ['*'] : input.albums.map(normalisePattern);
      const tag = await gate.run(() => lookupTag(password, options.tagSalt));
      // Two keys with one password would open whichever was found first: never allowed.
      const holder = await gate.run(() => keyFor(password, tag));
      if (holder !== undefined) throw new KeyError('PASSWORD_TAKEN', `the key "${holder.label}" already has this password; every key needs a password of its own`);
      const key = await keys.add({
        label,
        passwordHash: await gate.run(() => hashPassword(password)),
        lookupTag: tag,
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
    /** Checks a login's password; rejects with LoginBusyError when too many are being checked already. */
    async authenticate(password: string): Promise<LoginOutcome> {
      const key = await gate.run(async () => keyFor(password, await lookupTag(password, options.tagSalt)));
      if (key === undefined) return { outcome: 'rejected' };
      if (key.expiresAt !== null && key.expiresAt <= now()) return { outcome: 'expired', key };
      return { outcome: 'accepted', key };
    },
    hashing: () => gate.stats(),
  };
}
