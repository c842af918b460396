import { KeepsakeError } from '../errors.js';
import type { Db } from './database.js';
import { createEnrolmentsTable, createPreviewLinksTable } from './enrolments-table.js';
import { createKeysTable } from './keys-table.js';
import { createExpiryDeleter } from './expiry-worker.js';
import type { AccessStore } from './ports.js';
import { createSessionsTable } from './sessions-table.js';
import { createReceiptsTable } from './receipts-table.js';
import { createSharesTable } from './shares-table.js';

/** A row that would repeat a unique value (a session id or token): the caller picks another. */
export class StoreConflictError extends KeepsakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_CONFLICT', message, options);
  }
}

/** A unique value already taken is the caller's to handle, as a StoreConflictError. */
function conflictsAsStoreErrors<T>(write: () => T, message: string): T {
  try {
    return write();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StoreConflictError(message, { cause: error });
    throw error;
  }
}

/**
 * The access store over SQLite. better-sqlite3 answers synchronously (and, for these small
 * indexed statements, faster than a round trip through the thread pool would), so each method
 * is its table's statement in an async function: a throw becomes a rejection. The sweep's
 * deletes are the exception: they run in a worker (expiry-worker.ts).
 */
export function createSqliteAccessStore(db: Db): AccessStore {
  const keys = createKeysTable(db);
  const sessions = createSessionsTable(db);
  const shares = createSharesTable(db);
  const receipts = createReceiptsTable(db);
  const enrolments = createEnrolmentsTable(db);
  const previewLinks = createPreviewLinksTable(db);
  const expiry = createExpiryDeleter(db, sessions.deleteExpired);
  return {
    keys: {
      add: async (key) => conflictsAsStoreErrors(() => keys.add(key), 'a key with this label or password exists'),
      all: async () => keys.all(),
      byLabel: async (label) => keys.byLabel(label),
      byId: async (id) => keys.byId(id),
      byLookupTag: async (tag) => keys.byLookupTag(tag),
      untagged: async () => keys.untagged(),
      setLookupTag: async (id, tag) => keys.setLookupTag(id, tag),
      remove: async (id) => keys.remove(id),
      count: async () => keys.count(),
    },
    sessions: {
      insertPending: async (session) => conflictsAsStoreErrors(() => sessions.insertPending(session), 'session id or token taken'),
      activate: async (sid) => sessions.activate(sid),
      findLive: async (sid, now) => sessions.findLive(sid, now),
      bySid: async (sid) => sessions.bySid(sid),
      byToken: async (token) => sessions.byToken(token),
      live: async (now) => sessions.live(now),
      byKey: async (keyId) => sessions.byKey(keyId),
      byLabel: async (label) => sessions.byLabel(label),
      byShare: async (shareId) => sessions.byShare(shareId),
      expired: async (now, limit) => sessions.expired(now, limit),
      deleteExpired: (now, limit) => expiry.deleteExpired(now, limit),
      stalePending: async (createdBefore) => sessions.stalePending(createdBefore),
      tokens: async () => sessions.tokens(),
      activeTokens: async () => sessions.activeTokens(),
      setExpiry: async (sid, expiresAt) => sessions.setExpiry(sid, expiresAt),
      delete: async (sid) => sessions.delete(sid),
      deleteMany: async (sids) => sessions.deleteMany(sids),
      setDeviceName: async (sid, name) => sessions.setDeviceName(sid, name),
      named: async (now) => sessions.named(now),
    },
    shares: {
      add: async (share) => shares.add(share),
      byId: async (id) => shares.byId(id),
      all: async () => shares.all(),
      takeUse: async (id, now) => shares.takeUse(id, now),
      revoke: async (id, now) => shares.revoke(id, now),
      deleteExpired: async (now) => shares.deleteExpired(now),
    },
    receipts: {
      record: async (batch) => receipts.record(batch),
      bySid: async (sid) => receipts.bySid(sid),
      byToken: async (token) => receipts.byToken(token),
      byLabel: async (label) => receipts.byLabel(label),
      byShare: async (shareId) => receipts.byShare(shareId),
      byKey: async (keyId) => receipts.byKey(keyId),
      prune: async (before) => receipts.prune(before),
    },
    enrolments: {
      add: async (record) => enrolments.add(record),
      byHash: async (codeHash) => enrolments.byHash(codeHash),
      byKey: async (keyId) => enrolments.byKey(keyId),
      take: async (codeHash, now) => enrolments.take(codeHash, now),
    },
    previewLinks: {
      add: async (codeHash, expiresAt) => previewLinks.add(codeHash, expiresAt),
      take: async (codeHash, now) => previewLinks.take(codeHash, now),
      prune: async (now) => previewLinks.prune(now),
    },
    close: () => expiry.close(),
  };
}
