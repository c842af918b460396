export { databaseFiles, openDatabase, isDatabaseUsable, type Db } from './database.js';
export { createKeysTable, type KeyLocation, type KeysTable, type KeyRecord, type NewKeyRecord } from './keys-table.js';
export {
  createSessionsTable,
  type SessionsTable,
  type SessionRecord,
  type NewSessionRecord,
} from './sessions-table.js';
export type { AccessStore, EnrolmentStore, KeyStore, PreviewLinkStore, ReceiptStore, SessionStore, ShareStore } from './ports.js';
export type { EnrolmentRecord } from './enrolments-table.js';
export { RECEIPT_ADDRESSES, RECEIPT_PHOTOS, type Receipt, type ReceiptHit, type ReceiptSession } from './receipts-table.js';
export { createSqliteAccessStore, StoreConflictError } from './sqlite-access-store.js';
export { loadOrCreateSecret } from './secrets.js';
export { createSharesTable, type SharesTable, type ShareRecord } from './shares-table.js';
export { createRefusalsTable, type RefusalsTable } from './refusals-table.js';
export { createLinkEventStore, type LinkEvent, type LinkEventStore, type LinkSnapshot } from './postgres-link-events.js';
export { loadOrCreateSharedSecret, pruneSharedCounters } from './postgres-shared.js';
export { createPostgresAccessStore } from './postgres-access-store.js';
export { createClient, createPool, inTransaction, isPostgresUsable, migratePostgres, openPostgres, type PgPool } from './postgres-database.js';
