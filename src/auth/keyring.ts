import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import { StoreConflictError, type KeyRecord, type KeyStore } from '../store/index.js';
import { normalisePattern } from './grants.js';
import { createHashGate, type HashGate, type HashGateOptions } from './hash-gate.js';
import { isLocationPolicy, type LocationPolicy } from './location-policy.js';
import { generatePassword, hashPassword, lookupTag, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords.js';

export class KeyError extends UserError {
  declare readonly code: 'BAD_LABEL' | 'KEY_EXISTS' | 'KEY_NOT_FOUND' | 'WEAK_PASSWORD' | 'BAD_EXPIRY' | 'PASSWORD_TAKEN' | 'BAD_LOCATION';

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
  /** What the key is told of where photos were taken (default none); `exact` needs `household`. */
  readonly location?: LocationPolicy | undefined;
  readonly household?: boolean | undefined;
  /** A key for one named device (entered by enrolment link; its password is never shown). */
  readonly device?: boolean | undefined;
}

export type LoginOutcome =
  | { readonly outcome: 'accepted'; readonly key: KeyRecord }
  | { readonly outcome: 'rejected' }
  | { readonly outcome: 'expired'; readonly key: KeyRecord };

export interface KeyringOptions {
  /** The site-wide salt of lookup tags (`<stateDir>/secrets/key-tag-salt`). */
  readonly tagSalt: string;
  /** Password checks at once, waiting, and the share of a core each may take (hash-gate.ts). */
  readonly hashing?: HashGateOptions;
  readonly now?: () => number;
}

const LABEL = /^[\p{L}\p{N}][\p{L}\p{N} _.'’-]{0,63}$/u;
const MIN_PASSWORD_LENGTH = 8;

/**
 * Hashing leaves the event loop its core and photos most of another: on a 2-core box one scrypt
 * at a time, two at most, each hashing at most a quarter of the time under a flood (about 3
 * logins a second on a small box: a family logging in at once waits a moment, never minutes).
 */
function defaultHashing(): HashGateOptions {
  return { concurrency: Math.max(1, Math.min(2, availableParallelism() - 1)), queue: 16, share: 0.25 };
}

export type Keyring = ReturnType<typeof createKeyring>;

/**
 * Shared passwords: adding (hashed, never stored in clear), listing, removing, and checking a
 * login. A login costs one hash whatever the number of keys: the password's lookup tag (scrypt
 * under the site's salt) is the key's, or no key's, so a right and a wrong password take as long
 * and an offline guess still costs a full scrypt. Keys made before tags are checked by their own
 * hashes until their next login gives them a tag. At most one or two logins hash at once
 * (hash-gate.ts).
 */
export function createKeyring(keys: KeyStore, options: KeyringOptions) {
  const now = options.now ?? Date.now;
  const gate: HashGate = createHashGate(options.hashing ?? defaultHashing());

  /** The key a password opens: by its tag, else (for keys made before tags) by each one's hash. */
  async function keyFor(password: string, tag: string): Promise<KeyRecord | undefined> {
    const tagged = await keys.byLookupTag(tag);
    if (tagged !== undefined) return tagged;
    for (const key of await keys.untagged()) {
      if (!(await verifyPassword(password, key.passwordHash))) continue;
      await keys.setLookupTag(key.id, tag);
      return key;
    }
    return undefined;
  }

  function checkInput(input: KeyInput, label: string, password: string): void {
    if (input.location !== undefined && !isLocationPolicy(input.location)) {
      throw new KeyError('BAD_LOCATION', `location ${JSON.stringify(input.location)}: expected none, city or exact`);
    }
    if (input.location === 'exact' && input.household !== true) {
      throw new KeyError('BAD_LOCATION', 'location exact: only a household key may see exact places; mark it with --household, or use --location city');
    }
    if (!LABEL.test(label)) {
      throw new KeyError('BAD_LABEL', `label ${JSON.stringify(input.label)}: expected 1–64 letters, digits, spaces, _ . ' or -`);
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
      // Not through the gate: it paces logins, which anyone on the network can send; keys are
      // added by the admin (the command line, in a process of its own, or the first start).
      const tag = await lookupTag(password, options.tagSalt);
      // Two keys with one password would open whichever was found first: never allowed.
      const holder = await keyFor(password, tag);
      if (holder !== undefined) throw new KeyError('PASSWORD_TAKEN', `the key "${holder.label}" already has this password; every key needs a password of its own`);
      const record = {
        label,
        passwordHash: await hashPassword(password),
        lookupTag: tag,
        albums,
        canDownloadOriginals: input.canDownloadOriginals,
        expiresAt: input.expiresAt ?? null,
        createdAt: now(),
        location: input.location ?? 'none',
        household: input.household ?? false,
        device: input.device ?? false,
      };
      try {
        return { key: await keys.add(record), password };
      } catch (error) {
        // Another `key add` got there first, with this label or this password.
        if (!(error instanceof StoreConflictError)) throw error;
        if ((await keys.byLabel(label)) !== undefined) throw new KeyError('KEY_EXISTS', `a key labelled "${label}" already exists`);
        throw new KeyError('PASSWORD_TAKEN', 'another key has just been given this password; every key needs a password of its own');
      }
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
