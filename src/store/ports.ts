import type { EnrolmentRecord } from './enrolments-table.js';
import type { KeyRecord, NewKeyRecord } from './keys-table.js';
import type { NewSessionRecord, SessionRecord } from './sessions-table.js';
import type { Receipt, ReceiptHit, ReceiptSession } from './receipts-table.js';
import type { ShareRecord } from './shares-table.js';

/*
 * What keepsake asks of a store for keys, sessions and share links: small, asynchronous and
 * engine-neutral, so a second engine (PostgreSQL, for several nodes) is one adapter. SQLite's is
 * in sqlite-access-store.ts. Times are absolute epoch milliseconds.
 */

export interface KeyStore {
  /** Rejects with StoreConflictError when the label or the lookup tag is taken. */
  add(key: NewKeyRecord): Promise<KeyRecord>;
  /** Sorted by label. */
  all(): Promise<KeyRecord[]>;
  byLabel(label: string): Promise<KeyRecord | undefined>;
  byId(id: number): Promise<KeyRecord | undefined>;
  byLookupTag(tag: string): Promise<KeyRecord | undefined>;
  /** Keys made before lookup tags, oldest first. */
  untagged(): Promise<KeyRecord[]>;
  /** Gives a key made before tags its tag (once). */
  setLookupTag(id: number, tag: string): Promise<boolean>;
  /** Removes the key and every session opened with it. */
  remove(id: number): Promise<boolean>;
  count(): Promise<number>;
}

export interface SessionStore {
  /** A login's first step; rejects with StoreConflictError when the sid or token is taken. */
  insertPending(session: NewSessionRecord): Promise<void>;
  activate(sid: string): Promise<boolean>;
  /** The session behind a cookie, only while active and unexpired at `now`. */
  findLive(sid: string, now: number): Promise<SessionRecord | undefined>;
  bySid(sid: string): Promise<SessionRecord | undefined>;
  byToken(token: string): Promise<SessionRecord | undefined>;
  /** Active and unexpired at `now`, oldest first. */
  live(now: number): Promise<SessionRecord[]>;
  byKey(keyId: number): Promise<SessionRecord[]>;
  byLabel(label: string): Promise<SessionRecord[]>;
  byShare(shareId: string): Promise<SessionRecord[]>;
  /** Active sessions expired at `now`, at most `limit`. */
  expired(now: number, limit: number): Promise<Array<{ sid: string; token: string }>>;
  /** Deletes up to `limit` active sessions expired at `now`, in one step; returns what it deleted. */
  deleteExpired(now: number, limit: number): Promise<Array<{ sid: string; token: string }>>;
  /** Pending rows made at or before `createdBefore`: logins that never finished. */
  stalePending(createdBefore: number): Promise<Array<{ sid: string; token: string }>>;
  /** Tokens of every row, pending or active. */
  tokens(): Promise<Set<string>>;
  activeTokens(): Promise<Set<string>>;
  setExpiry(sid: string, expiresAt: number): Promise<boolean>;
  delete(sid: string): Promise<boolean>;
  deleteMany(sids: readonly string[]): Promise<void>;
  /** Names (or unnames) the device an active session is on. */
  setDeviceName(sid: string, name: string | null): Promise<boolean>;
  /** Live sessions whose device has a name, by name. */
  named(now: number): Promise<SessionRecord[]>;
}

export interface EnrolmentStore {
  add(record: Omit<EnrolmentRecord, 'usedAt'>): Promise<void>;
  byHash(codeHash: string): Promise<EnrolmentRecord | undefined>;
  byKey(keyId: number): Promise<EnrolmentRecord[]>;
  /** Marks the card used when it is unused and unexpired at `now`, atomically; false otherwise. */
  take(codeHash: string, now: number): Promise<boolean>;
}

export interface ShareStore {
  add(share: Omit<ShareRecord, 'uses' | 'revokedAt'>): Promise<void>;
  byId(id: string): Promise<ShareRecord | undefined>;
  /** Newest first. */
  all(): Promise<ShareRecord[]>;
  /** Counts one use if the share is still open at `now`; false when revoked, expired or used up. Atomic. */
  takeUse(id: string, now: number): Promise<boolean>;
  revoke(id: string, now: number): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
}

export interface ReceiptStore {
  /** Adds what sessions fetched since the last call (one transaction). */
  record(batch: ReadonlyArray<{ session: ReceiptSession; hits: readonly ReceiptHit[] }>): Promise<void>;
  bySid(sid: string): Promise<Receipt | undefined>;
  /** Oldest first. */
  byToken(token: string): Promise<Receipt[]>;
  byLabel(label: string): Promise<Receipt[]>;
  byShare(shareId: string): Promise<Receipt[]>;
  byKey(keyId: number): Promise<Receipt[]>;
  /** Deletes the receipts of sessions that have ended and were last seen before `before`. */
  prune(before: number): Promise<number>;
}

export interface PreviewLinkStore {
  add(codeHash: string, expiresAt: number): Promise<void>;
  /** Uses the link when unused and unexpired at `now`, atomically; false otherwise. */
  take(codeHash: string, now: number): Promise<boolean>;
  prune(now: number): Promise<number>;
}

export interface AccessStore {
  readonly keys: KeyStore;
  readonly sessions: SessionStore;
  readonly shares: ShareStore;
  readonly receipts: ReceiptStore;
  readonly enrolments: EnrolmentStore;
  readonly previewLinks: PreviewLinkStore;
  /** Ends what the store runs beside the caller's connection or pool (which stay the caller's to close). */
  close(): Promise<void>;
}
