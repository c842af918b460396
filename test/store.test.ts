import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  createClient,
  createPool,
  createPostgresAccessStore,
  createSqliteAccessStore,
  migratePostgres,
  openDatabase,
  RECEIPT_ADDRESSES,
  RECEIPT_PHOTOS,
  StoreConflictError,
  type AccessStore,
  type NewKeyRecord,
  type NewSessionRecord,
  type PgPool,
  type SessionStore,
  type ShareRecord,
  type ReceiptHit,
  type ReceiptSession,
} from '../src/store/index.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres-migrations.js';
import { tempDir } from './helpers/fixtures.js';
import { postgresSkip, startPostgres, type PostgresCluster } from './helpers/postgres.js';

/*
 * The access store's contract, written once and run against both engines: what a caller of the
 * port sees, never how a table looks. Each case gets a store of its own (a new SQLite file; a new
 * schema in one PostgreSQL database), so no case depends on what another left behind.
 */

const NOW = Date.UTC(2025, 5, 1, 12);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Case = readonly [title: string, check: (store: AccessStore) => Promise<void>];

function newKey(label: string, fields: Partial<NewKeyRecord> = {}): NewKeyRecord {
  return { label, passwordHash: `hash of ${label}`, lookupTag: `tag of ${label}`, albums: ['Summer 2024', 'Kids/Alice'], canDownloadOriginals: false, expiresAt: null, createdAt: NOW, location: 'none', household: false, device: false, ...fields };
}

function newSession(sid: string, fields: Partial<NewSessionRecord> = {}): NewSessionRecord {
  return { sid, token: `token-${sid}`, keyId: null, shareId: null, label: 'visitor', albums: ['Summer 2024'], canDownloadOriginals: false, view: `view-${sid}`, createdAt: NOW, expiresAt: NOW + HOUR, maxAge: HOUR, expiresCap: null, location: 'none', ...fields };
}

/** A finished login: the pending row, then active. */
async function login(sessions: SessionStore, session: NewSessionRecord): Promise<void> {
  await sessions.insertPending(session);
  assert.equal(await sessions.activate(session.sid), true);
}

const sids = (rows: ReadonlyArray<{ sid: string }>): string[] => rows.map((row) => row.sid);
const sortedSids = (rows: ReadonlyArray<{ sid: string }>): string[] => sids(rows).sort();
const bySid = (one: { sid: string }, other: { sid: string }): number => (one.sid < other.sid ? -1 : 1);

const KEY_CASES: Case[] = [
  ['keeps a key exactly as given and finds it by label, id and lookup tag', async ({ keys }) => {
    const given = newKey('grandparents', { albums: ['Été 2024', 'Kids/Bob', 'Kids/Alice'], canDownloadOriginals: true, expiresAt: NOW + HOUR, location: 'exact', household: true, device: true });
    const added = await keys.add(given);
    assert.deepEqual(added, { ...given, id: added.id });
    assert.deepEqual(await keys.byLabel('grandparents'), added);
    assert.deepEqual(await keys.byId(added.id), added);
    assert.deepEqual(await keys.byLookupTag('tag of grandparents'), added);
    const other = await keys.add(newKey('cousins', { lookupTag: null }));
    assert.notEqual(other.id, added.id);
    assert.deepEqual(await keys.byId(other.id), other);
    assert.equal(await keys.byLabel('nobody'), undefined);
    assert.equal(await keys.byId(other.id + added.id + 1), undefined);
    assert.equal(await keys.byLookupTag('tag of nobody'), undefined);
  }],
  ['lists keys sorted by label, byte-wise, and counts them', async ({ keys }) => {
    assert.equal(await keys.count(), 0);
    for (const label of ['grandparents', 'alice', 'Zoë', 'Bob']) await keys.add(newKey(label));
    assert.deepEqual((await keys.all()).map((key) => key.label), ['Bob', 'Zoë', 'alice', 'grandparents']);
    assert.equal(await keys.count(), 4);
  }],
  ['refuses a second key with a taken label or lookup tag', async ({ keys }) => {
    await keys.add(newKey('grandparents'));
    await assert.rejects(keys.add(newKey('grandparents', { lookupTag: 'another tag' })), StoreConflictError);
    await assert.rejects(keys.add(newKey('cousins', { lookupTag: 'tag of grandparents' })), StoreConflictError);
    // Keys made before tags have none, and any number of them may exist.
    await keys.add(newKey('old one', { lookupTag: null }));
    await keys.add(newKey('old two', { lookupTag: null }));
    assert.equal(await keys.count(), 3);
  }],
  ['gives untagged keys their tag once, listing them oldest first', async ({ keys }) => {
    const first = await keys.add(newKey('first', { lookupTag: null }));
    await keys.add(newKey('tagged'));
    const second = await keys.add(newKey('second', { lookupTag: null }));
    assert.deepEqual((await keys.untagged()).map((key) => key.id), [first.id, second.id]);
    assert.equal(await keys.setLookupTag(first.id, 'new tag'), true);
    assert.equal(await keys.setLookupTag(first.id, 'newer tag'), false);
    assert.equal((await keys.byLookupTag('new tag'))?.id, first.id);
    assert.deepEqual((await keys.untagged()).map((key) => key.id), [second.id]);
  }],
  ['removing a key removes its sessions and enrolment cards, and nothing else', async (store) => {
    const gone = await store.keys.add(newKey('gone'));
    const kept = await store.keys.add(newKey('kept'));
    await login(store.sessions, newSession('of-gone', { keyId: gone.id }));
    await store.sessions.insertPending(newSession('pending-of-gone', { keyId: gone.id }));
    await login(store.sessions, newSession('of-kept', { keyId: kept.id }));
    await store.enrolments.add({ codeHash: 'card of gone', keyId: gone.id, createdAt: NOW, expiresAt: NOW + HOUR });
    assert.equal(await store.keys.remove(gone.id), true);
    assert.equal(await store.keys.remove(gone.id), false);
    assert.equal(await store.keys.byId(gone.id), undefined);
    assert.deepEqual(await store.sessions.byKey(gone.id), []);
    assert.equal(await store.sessions.bySid('of-gone'), undefined);
    assert.equal(await store.enrolments.byHash('card of gone'), undefined);
    assert.deepEqual(sids(await store.sessions.byKey(kept.id)), ['of-kept']);
    assert.equal(await store.keys.count(), 1);
  }],
];

const SESSION_CASES: Case[] = [
  ['a login is pending until activated, and only an active, unexpired session is live', async ({ sessions }) => {
    const given = newSession('s1');
    await sessions.insertPending(given);
    assert.deepEqual(await sessions.bySid('s1'), { ...given, state: 'pending', deviceName: null, preview: false });
    assert.equal(await sessions.findLive('s1', NOW), undefined);
    assert.equal(await sessions.activate('s1'), true);
    assert.equal(await sessions.activate('s1'), false);
    assert.equal(await sessions.activate('nobody'), false);
    const live = { ...given, state: 'active', deviceName: null, preview: false };
    assert.deepEqual(await sessions.findLive('s1', NOW), live);
    assert.deepEqual(await sessions.byToken('token-s1'), live);
    assert.equal(await sessions.findLive('s1', given.expiresAt), undefined, 'expired at its expiry');
    assert.deepEqual(await sessions.bySid('s1'), live, 'an expired row is still found by sid');
    assert.equal(await sessions.bySid('nobody'), undefined);
    assert.equal(await sessions.byToken('nobody'), undefined);
  }],
  ['keeps every field of a session exactly', async (store) => {
    const key = await store.keys.add(newKey('tablet', { device: true }));
    const given = newSession('s1', { keyId: key.id, label: 'tablet', albums: ['Été 2024', 'Kids'], canDownloadOriginals: true, expiresCap: NOW + 2 * HOUR, location: 'city', deviceName: 'Kitchen tablet', preview: true });
    await login(store.sessions, given);
    assert.deepEqual(await store.sessions.bySid('s1'), { ...given, state: 'active' });
    await login(store.sessions, newSession('s2', { shareId: 'share-1' }));
    assert.equal((await store.sessions.bySid('s2'))?.shareId, 'share-1');
  }],
  ['refuses a taken sid or token', async ({ sessions }) => {
    await sessions.insertPending(newSession('s1'));
    await assert.rejects(sessions.insertPending(newSession('s1', { token: 'another token' })), StoreConflictError);
    await assert.rejects(sessions.insertPending(newSession('s2', { token: 'token-s1' })), StoreConflictError);
    assert.equal((await sessions.bySid('s1'))?.token, 'token-s1');
    assert.equal(await sessions.bySid('s2'), undefined);
  }],
  ['lists live sessions oldest first, and sessions by key, label and share', async (store) => {
    const key = await store.keys.add(newKey('family'));
    await login(store.sessions, newSession('third', { createdAt: NOW + 3, keyId: key.id, label: 'family' }));
    await login(store.sessions, newSession('first', { createdAt: NOW + 1, keyId: key.id, label: 'family' }));
    await login(store.sessions, newSession('second', { createdAt: NOW + 2, shareId: 'share-1' }));
    await login(store.sessions, newSession('expired', { createdAt: NOW, expiresAt: NOW, shareId: 'share-1' }));
    await store.sessions.insertPending(newSession('pending', { createdAt: NOW, keyId: key.id }));
    assert.deepEqual(sids(await store.sessions.live(NOW)), ['first', 'second', 'third']);
    assert.deepEqual(sortedSids(await store.sessions.byKey(key.id)), ['first', 'pending', 'third']);
    assert.deepEqual(sortedSids(await store.sessions.byLabel('family')), ['first', 'third']);
    assert.deepEqual(sortedSids(await store.sessions.byShare('share-1')), ['expired', 'second']);
    assert.deepEqual(await store.sessions.byShare('share-2'), []);
  }],
  ['finds expired sessions up to a limit, and deletes them in one step, saying which', async ({ sessions }) => {
    const expired = ['e1', 'e2', 'e3', 'e4', 'e5'];
    for (const [index, sid] of expired.entries()) await login(sessions, newSession(sid, { expiresAt: NOW - index }));
    await login(sessions, newSession('live'));
    await sessions.insertPending(newSession('pending', { expiresAt: NOW - HOUR }));
    assert.deepEqual(sortedSids(await sessions.expired(NOW, 10)), expired);
    assert.equal((await sessions.expired(NOW, 2)).length, 2);
    const first = await sessions.deleteExpired(NOW, 3);
    assert.equal(first.length, 3);
    for (const row of first) assert.deepEqual(row, { sid: row.sid, token: `token-${row.sid}` });
    for (const row of first) assert.equal(await sessions.bySid(row.sid), undefined);
    const rest = await sessions.deleteExpired(NOW, 10);
    assert.deepEqual([...sortedSids(first), ...sortedSids(rest)].sort(), expired);
    assert.deepEqual(await sessions.deleteExpired(NOW, 10), []);
    assert.deepEqual(sortedSids(await sessions.byLabel('visitor')), ['live', 'pending']);
  }],
  ['two sweeps at once never both delete one session', async ({ sessions }) => {
    const expired = Array.from({ length: 10 }, (_, index) => `e${String(index).padStart(2, '0')}`);
    for (const sid of expired) await login(sessions, newSession(sid, { expiresAt: NOW }));
    const [one, two] = await Promise.all([sessions.deleteExpired(NOW, 10), sessions.deleteExpired(NOW, 10)]);
    assert.deepEqual([...sids(one), ...sids(two)].sort(), expired);
  }],
  ['finds logins that never finished', async ({ sessions }) => {
    await sessions.insertPending(newSession('old', { createdAt: NOW - 10 * MINUTE }));
    await sessions.insertPending(newSession('just now', { createdAt: NOW }));
    await sessions.insertPending(newSession('in flight', { createdAt: NOW + 1 }));
    await login(sessions, newSession('finished', { createdAt: NOW - HOUR }));
    assert.deepEqual((await sessions.stalePending(NOW)).sort(bySid), [{ sid: 'just now', token: 'token-just now' }, { sid: 'old', token: 'token-old' }]);
  }],
  ['tells the tokens of every row, and of active rows', async ({ sessions }) => {
    await login(sessions, newSession('a'));
    await login(sessions, newSession('expired', { expiresAt: NOW - 1 }));
    await sessions.insertPending(newSession('p'));
    assert.deepEqual(await sessions.tokens(), new Set(['token-a', 'token-expired', 'token-p']));
    assert.deepEqual(await sessions.activeTokens(), new Set(['token-a', 'token-expired']));
  }],
  ['renews only active sessions', async ({ sessions }) => {
    await login(sessions, newSession('a'));
    await sessions.insertPending(newSession('p'));
    assert.equal(await sessions.setExpiry('a', NOW + 5 * HOUR), true);
    assert.equal((await sessions.bySid('a'))?.expiresAt, NOW + 5 * HOUR);
    assert.equal(await sessions.setExpiry('p', NOW + 5 * HOUR), false);
    assert.equal((await sessions.bySid('p'))?.expiresAt, NOW + HOUR);
    assert.equal(await sessions.setExpiry('nobody', NOW), false);
  }],
  ['names devices of active sessions and lists the live named ones by name, byte-wise', async ({ sessions }) => {
    for (const sid of ['a', 'b', 'c', 'd']) await login(sessions, newSession(sid));
    await login(sessions, newSession('expired', { expiresAt: NOW }));
    await sessions.insertPending(newSession('p'));
    for (const [sid, name] of [['a', 'kitchen'], ['b', 'Phone'], ['c', 'attic'], ['expired', 'Old']] as const) assert.equal(await sessions.setDeviceName(sid, name), true);
    assert.equal(await sessions.setDeviceName('p', 'pending'), false);
    assert.deepEqual((await sessions.named(NOW)).map((session) => session.deviceName), ['Phone', 'attic', 'kitchen']);
    assert.equal(await sessions.setDeviceName('a', null), true);
    assert.deepEqual(sids(await sessions.named(NOW)), ['b', 'c']);
    assert.equal((await sessions.bySid('a'))?.deviceName, null);
  }],
  ['ends one session, or several at once', async ({ sessions }) => {
    for (const sid of ['a', 'b', 'c', 'd']) await login(sessions, newSession(sid));
    assert.equal(await sessions.delete('a'), true);
    assert.equal(await sessions.delete('a'), false);
    await sessions.deleteMany(['b', 'c', 'nobody']);
    await sessions.deleteMany([]);
    assert.deepEqual(sids(await sessions.live(NOW)), ['d']);
  }],
];

type NewShare = Omit<ShareRecord, 'uses' | 'revokedAt'>;

function newShare(id: string, fields: Partial<NewShare> = {}): NewShare {
  return { id, album: 'Summer 2024', canDownloadOriginals: false, expiresAt: NOW + HOUR, maxUses: null, createdAt: NOW, ...fields };
}

/** Runs `attempts` at once and says how many succeeded. */
async function winners(attempts: number, attempt: () => Promise<boolean>): Promise<number> {
  const results = await Promise.all(Array.from({ length: attempts }, attempt));
  return results.filter(Boolean).length;
}

const SHARE_CASES: Case[] = [
  ['keeps share links as given and lists them newest first', async ({ shares }) => {
    const given = newShare('older', { maxUses: 3 });
    await shares.add(given);
    await shares.add(newShare('newest', { createdAt: NOW + 2 }));
    await shares.add(newShare('middle', { createdAt: NOW + 1 }));
    assert.deepEqual(await shares.byId('older'), { ...given, uses: 0, revokedAt: null });
    assert.deepEqual((await shares.all()).map((share) => share.id), ['newest', 'middle', 'older']);
    assert.equal(await shares.byId('nothing'), undefined);
  }],
  ['counts uses up to the limit, and none once expired or revoked', async ({ shares }) => {
    await shares.add(newShare('twice', { maxUses: 2 }));
    await shares.add(newShare('open'));
    await shares.add(newShare('expiring', { expiresAt: NOW + 10 }));
    assert.deepEqual([await shares.takeUse('twice', NOW), await shares.takeUse('twice', NOW), await shares.takeUse('twice', NOW)], [true, true, false]);
    assert.equal((await shares.byId('twice'))?.uses, 2);
    for (let use = 0; use < 5; use += 1) assert.equal(await shares.takeUse('open', NOW), true);
    assert.equal((await shares.byId('open'))?.uses, 5);
    assert.equal(await shares.takeUse('expiring', NOW + 9), true);
    assert.equal(await shares.takeUse('expiring', NOW + 10), false);
    assert.equal(await shares.revoke('open', NOW + 1), true);
    assert.equal(await shares.revoke('open', NOW + 2), false);
    assert.equal((await shares.byId('open'))?.revokedAt, NOW + 1);
    assert.equal(await shares.takeUse('open', NOW + 3), false);
    assert.equal(await shares.takeUse('nothing', NOW), false);
    assert.equal(await shares.revoke('nothing', NOW), false);
  }],
  ['gives exactly five of twenty visitors racing for five uses', async ({ shares }) => {
    await shares.add(newShare('race', { maxUses: 5 }));
    assert.equal(await winners(20, () => shares.takeUse('race', NOW)), 5);
    assert.equal((await shares.byId('race'))?.uses, 5);
  }],
  ['deletes the shares expired at a time, and says how many', async ({ shares }) => {
    await shares.add(newShare('gone', { expiresAt: NOW - 1 }));
    await shares.add(newShare('just gone', { expiresAt: NOW }));
    await shares.add(newShare('kept', { expiresAt: NOW + 1 }));
    assert.equal(await shares.deleteExpired(NOW), 2);
    assert.deepEqual((await shares.all()).map((share) => share.id), ['kept']);
    assert.equal(await shares.deleteExpired(NOW), 0);
  }],
];

const ENROLMENT_CASES: Case[] = [
  ['keeps enrolment cards and lets each be used once, before it expires', async ({ keys, enrolments }) => {
    const key = await keys.add(newKey('tablet', { device: true }));
    const other = await keys.add(newKey('phone', { device: true }));
    const first = { codeHash: 'first', keyId: key.id, createdAt: NOW, expiresAt: NOW + HOUR };
    await enrolments.add({ ...first, codeHash: 'second', createdAt: NOW + 1 });
    await enrolments.add(first);
    await enrolments.add({ ...first, codeHash: 'expiring', expiresAt: NOW + 10 });
    assert.deepEqual(await enrolments.byHash('first'), { ...first, usedAt: null });
    assert.deepEqual((await enrolments.byKey(key.id)).map((card) => card.codeHash).sort(), ['expiring', 'first', 'second']);
    assert.deepEqual((await enrolments.byKey(key.id)).map((card) => card.createdAt), [NOW, NOW, NOW + 1]);
    assert.deepEqual(await enrolments.byKey(other.id), []);
    assert.equal(await enrolments.take('first', NOW + 5), true);
    assert.equal(await enrolments.take('first', NOW + 6), false);
    assert.equal((await enrolments.byHash('first'))?.usedAt, NOW + 5);
    assert.equal(await enrolments.take('expiring', NOW + 10), false);
    assert.equal(await enrolments.take('nothing', NOW), false);
    assert.equal(await enrolments.byHash('nothing'), undefined);
  }],
  ['lets one of ten presses racing for a card in', async ({ keys, enrolments }) => {
    const key = await keys.add(newKey('tablet', { device: true }));
    await enrolments.add({ codeHash: 'card', keyId: key.id, createdAt: NOW, expiresAt: NOW + HOUR });
    assert.equal(await winners(10, () => enrolments.take('card', NOW)), 1);
  }],
];

const PREVIEW_LINK_CASES: Case[] = [
  ['uses a preview link once, before it expires, and prunes the expired', async ({ previewLinks }) => {
    await previewLinks.add('open', NOW + 10);
    await previewLinks.add('expired', NOW);
    assert.equal(await previewLinks.take('open', NOW), true);
    assert.equal(await previewLinks.take('open', NOW), false);
    assert.equal(await previewLinks.take('expired', NOW), false);
    assert.equal(await previewLinks.take('nothing', NOW), false);
    assert.equal(await previewLinks.prune(NOW), 1);
    assert.equal(await previewLinks.prune(NOW + 10), 1);
    assert.equal(await previewLinks.prune(NOW + 10), 0);
  }],
  ['lets one of ten racing for a preview link in', async ({ previewLinks }) => {
    await previewLinks.add('link', NOW + HOUR);
    assert.equal(await winners(10, () => previewLinks.take('link', NOW)), 1);
  }],
];

function visitor(sid: string, fields: Partial<ReceiptSession> = {}): ReceiptSession {
  return { sid, token: `token-${sid}`, label: 'visitor', keyId: null, shareId: null, ...fields };
}

function hit(albumPath: string, name: string, fields: Partial<ReceiptHit> = {}): ReceiptHit {
  return { albumPath, name, original: false, address: '198.51.100.7', at: NOW, ...fields };
}

const RECEIPT_CASES: Case[] = [
  ['records what a session fetched: photos per album, originals, addresses and requests', async ({ receipts }) => {
    const session = visitor('s1', { label: 'family', keyId: 7 });
    await receipts.record([
      { session, hits: [
        hit('Summer 2024', 'beach.jpg', { at: NOW + 3 }),
        hit('Summer 2024', 'beach.jpg', { at: NOW + 1, original: true }),
        hit('Summer 2024', 'sunset.jpg', { at: NOW + 2, address: '203.0.113.9' }),
        hit('kids', 'a.jpg', { at: NOW + 5 }),
        hit('Kids/Bob', 'b.jpg', { at: NOW + 4 }),
        hit('Kids/Alice', 'c.jpg', { at: NOW + 6, address: '203.0.113.9' }),
      ] },
      { session: visitor('s2'), hits: [] },
    ]);
    assert.deepEqual(await receipts.bySid('s1'), {
      ...session, firstSeen: NOW + 1, lastSeen: NOW + 6, requests: 6, photosBeyond: 0, addressesBeyond: 0,
      // Most photos first; ties byte-wise by path.
      albums: [{ path: 'Summer 2024', photos: 2, originals: 1 }, { path: 'Kids/Alice', photos: 1, originals: 0 }, { path: 'Kids/Bob', photos: 1, originals: 0 }, { path: 'kids', photos: 1, originals: 0 }],
      addresses: [{ address: '198.51.100.7', firstSeen: NOW + 1, lastSeen: NOW + 5 }, { address: '203.0.113.9', firstSeen: NOW + 2, lastSeen: NOW + 6 }],
    });
    assert.equal(await receipts.bySid('s2'), undefined, 'a session that fetched nothing has no receipt');
  }],
  ['adds a later record to the earlier one', async ({ receipts }) => {
    const session = visitor('s1');
    await receipts.record([{ session, hits: [hit('A', 'x.jpg', { at: NOW + 10 })] }]);
    await receipts.record([
      { session, hits: [hit('A', 'x.jpg', { at: NOW + 5, original: true }), hit('B', 'y.jpg', { at: NOW + 20, address: '203.0.113.9' })] },
      { session, hits: [hit('B', 'y.jpg', { at: NOW + 30, address: '203.0.113.9' })] },
    ]);
    assert.deepEqual(await receipts.bySid('s1'), {
      ...session, firstSeen: NOW + 5, lastSeen: NOW + 30, requests: 4, photosBeyond: 0, addressesBeyond: 0,
      albums: [{ path: 'A', photos: 1, originals: 1 }, { path: 'B', photos: 1, originals: 0 }],
      addresses: [{ address: '198.51.100.7', firstSeen: NOW + 5, lastSeen: NOW + 10 }, { address: '203.0.113.9', firstSeen: NOW + 20, lastSeen: NOW + 30 }],
    });
  }],
  [`names at most ${RECEIPT_PHOTOS} photos per session and counts every fetch of the others`, async ({ receipts }) => {
    const session = visitor('s1');
    const many = Array.from({ length: RECEIPT_PHOTOS - 2 }, (_, index) => hit('Big', `p${index}.jpg`));
    await receipts.record([{ session, hits: many }]);
    await receipts.record([{ session, hits: [
      hit('Big', 'p0.jpg', { original: true }), // named already: still updated past the cap
      hit('New', 'n1.jpg'),
      hit('New', 'n1.jpg', { original: true }),
      hit('New', 'n2.jpg'), // the last name there is room for
      hit('New', 'n3.jpg'),
      hit('New', 'n3.jpg'),
      hit('Big', 'p1.jpg', { original: true }),
      hit('New', 'n4.jpg'),
    ] }]);
    await receipts.record([{ session, hits: [hit('New', 'n3.jpg'), hit('New', 'n1.jpg')] }]);
    const receipt = await receipts.bySid('s1');
    assert.deepEqual(receipt?.albums, [{ path: 'Big', photos: RECEIPT_PHOTOS - 2, originals: 2 }, { path: 'New', photos: 2, originals: 1 }]);
    assert.equal(receipt?.photosBeyond, 4);
    assert.equal(receipt?.requests, RECEIPT_PHOTOS - 2 + 8 + 2);
  }],
  ['counts a hit that stands for several answers as all of them, from the first to the last', async ({ receipts }) => {
    const session = visitor('s1');
    const many = Array.from({ length: RECEIPT_PHOTOS }, (_, index) => hit('Big', `p${index}.jpg`));
    await receipts.record([{ session, hits: many }]);
    await receipts.record([{ session, hits: [
      hit('Big', 'p0.jpg', { at: NOW + 9, firstAt: NOW - 4, repeats: 5 }),
      hit('Late', 'beyond.jpg', { at: NOW + 7, firstAt: NOW + 2, repeats: 3, address: '203.0.113.9' }),
    ] }]);
    const receipt = await receipts.bySid('s1');
    assert.equal(receipt?.requests, RECEIPT_PHOTOS + 5 + 3);
    assert.equal(receipt?.photosBeyond, 3, 'past the cap every answer of an unnamed photo counts, repeats included');
    assert.deepEqual([receipt?.firstSeen, receipt?.lastSeen], [NOW - 4, NOW + 9]);
    assert.deepEqual(receipt?.addresses.find((span) => span.address === '203.0.113.9'), { address: '203.0.113.9', firstSeen: NOW + 2, lastSeen: NOW + 7 });
  }],
  [`names at most ${RECEIPT_ADDRESSES} addresses per session and counts each other address once per record`, async ({ receipts }) => {
    const session = visitor('s1');
    const known = Array.from({ length: RECEIPT_ADDRESSES - 1 }, (_, index) => hit('A', 'x.jpg', { address: `10.0.0.${index}`, at: NOW + index }));
    await receipts.record([{ session, hits: known }]);
    await receipts.record([{ session, hits: [
      hit('A', 'x.jpg', { address: '10.0.0.0', at: NOW - 1 }),
      hit('A', 'x.jpg', { address: '192.0.2.16', at: NOW + 100 }),
      hit('A', 'x.jpg', { address: '192.0.2.17', at: NOW + 101 }),
      hit('A', 'x.jpg', { address: '192.0.2.18', at: NOW + 102 }),
      hit('A', 'x.jpg', { address: '192.0.2.17', at: NOW + 103 }),
    ] }]);
    await receipts.record([{ session, hits: [hit('A', 'x.jpg', { address: '192.0.2.17', at: NOW + 200 }), hit('A', 'x.jpg', { address: '10.0.0.5', at: NOW + 200 })] }]);
    const receipt = await receipts.bySid('s1');
    assert.equal(receipt?.addresses.length, RECEIPT_ADDRESSES);
    assert.deepEqual(receipt?.addresses[0], { address: '10.0.0.0', firstSeen: NOW - 1, lastSeen: NOW });
    assert.deepEqual(receipt?.addresses.find((span) => span.address === '10.0.0.5'), { address: '10.0.0.5', firstSeen: NOW + 5, lastSeen: NOW + 200 });
    assert.deepEqual(receipt?.addresses.at(-1), { address: '192.0.2.16', firstSeen: NOW + 100, lastSeen: NOW + 100 });
    assert.equal(receipt?.addressesBeyond, 3);
  }],
  ['finds receipts by token, label, share and key, oldest first', async ({ receipts }) => {
    await receipts.record([
      { session: visitor('later', { label: 'family', keyId: 1 }), hits: [hit('A', 'x.jpg', { at: NOW + 2 })] },
      { session: visitor('earlier', { label: 'family', keyId: 1 }), hits: [hit('A', 'x.jpg', { at: NOW + 1 })] },
      { session: visitor('shared', { label: 'share link', shareId: 'share-1' }), hits: [hit('A', 'y.jpg', { at: NOW })] },
    ]);
    assert.deepEqual(sids(await receipts.byToken('token-later')), ['later']);
    assert.deepEqual(sids(await receipts.byLabel('family')), ['earlier', 'later']);
    assert.deepEqual(sids(await receipts.byKey(1)), ['earlier', 'later']);
    assert.deepEqual(sids(await receipts.byShare('share-1')), ['shared']);
    assert.deepEqual(await receipts.byKey(2), []);
    assert.equal((await receipts.byShare('share-1'))[0]?.albums[0]?.path, 'A');
  }],
  ['prunes the receipts of ended sessions last seen before a time, with what they named', async (store) => {
    await login(store.sessions, newSession('live'));
    const old = NOW - 2 * HOUR;
    await store.receipts.record(['live', 'ended long ago', 'ended lately'].map((sid) => ({ session: visitor(sid), hits: [hit('A', 'x.jpg', { at: sid === 'ended lately' ? NOW : old })] })));
    assert.equal(await store.receipts.prune(NOW - HOUR), 1);
    assert.equal(await store.receipts.bySid('ended long ago'), undefined);
    assert.deepEqual(sortedSids(await store.receipts.byLabel('visitor')), ['ended lately', 'live']);
    await store.receipts.record([{ session: visitor('ended long ago'), hits: [hit('B', 'y.jpg')] }]);
    assert.deepEqual((await store.receipts.bySid('ended long ago'))?.albums, [{ path: 'B', photos: 1, originals: 0 }]);
  }],
];

const CASES: readonly Case[] = [...KEY_CASES, ...SESSION_CASES, ...SHARE_CASES, ...ENROLMENT_CASES, ...PREVIEW_LINK_CASES, ...RECEIPT_CASES];

/** Every case, each on a store of its own from `open`. */
function storeContract(name: string, open: () => Promise<AccessStore>): void {
  describe(name, () => {
    for (const [title, check] of CASES) it(title, async () => check(await open()));
  });
}

/** What the cases opened, closed once the file is done, last opened first (the cluster last). */
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function lazily<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

let opened = 0;

/**
 * pg's end() resolves once its connections are told to close, not once they have: stopping the
 * cluster in between would fail them with "terminating connection" on a pool no longer listening.
 */
async function endPool(pool: PgPool): Promise<void> {
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => {
      open -= 1;
      if (open === 0) resolve();
    });
  });
  await pool.end();
  await closed;
}

const sqliteDirectory = lazily(async () => {
  const directory = await tempDir('keepsake-store-');
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
});

async function openSqliteStore(): Promise<AccessStore> {
  const db = openDatabase(path.join(await sqliteDirectory(), `case-${(opened += 1)}.db`));
  cleanups.push(() => db.close());
  const store = createSqliteAccessStore(db);
  cleanups.push(() => store.close());
  return store;
}

const cluster = lazily(async (): Promise<PostgresCluster> => {
  const started = await startPostgres();
  cleanups.push(() => started.stop());
  return started;
});
/**
 * The contract's database sorts text as most installations do (en-US), not as this test cluster
 * would by default (C.UTF-8, which happens to agree with SQLite's byte order): so a query that
 * loses the byte order SQLite gives shows here.
 */
const contractDatabase = lazily(async () => {
  const { adminUrl } = await cluster();
  const admin = createClient(adminUrl);
  await admin.connect();
  try {
    await admin.query("CREATE DATABASE store_contract TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = '/store_contract';
  return url.href;
});

/** A store in a fresh, migrated schema of the one contract database (its pool's search_path). */
async function openPostgresStore(): Promise<AccessStore> {
  const schema = `case_${(opened += 1)}`;
  const pool = createPool(`${await contractDatabase()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`);
  cleanups.push(() => endPool(pool));
  await pool.query(`CREATE SCHEMA ${schema}`);
  await migratePostgres(pool);
  return createPostgresAccessStore(pool);
}

storeContract('the access store on SQLite', openSqliteStore);

it('SQLite migrates once when a second process opens a new database while the first is migrating', async () => {
  // A CLI command run beside a server that is creating its state dir: both find version 0.
  const file = path.join(await sqliteDirectory(), 'raced.db');
  const first = new Database(file);
  cleanups.push(() => first.close());
  first.pragma('journal_mode = WAL');
  first.exec('BEGIN IMMEDIATE'); // the first opener, stopped mid-migration with its write lock held
  const database = fileURLToPath(new URL('../src/store/database.ts', import.meta.url));
  const script = `const { openDatabase } = await import(${JSON.stringify(database)});
process.stderr.write('opening\\n');
const db = openDatabase(${JSON.stringify(file)});
process.stdout.write(String(db.pragma('user_version', { simple: true })));
db.close();`;
  const second = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  second.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const opening = new Promise<void>((resolve) =>
    second.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('opening')) resolve();
    }),
  );
  const exited = once(second, 'exit');
  await opening;
  await sleep(300); // the second opener is now waiting on the lock
  for (const step of MIGRATIONS) first.exec(step);
  first.pragma(`user_version = ${MIGRATIONS.length}`);
  first.exec('COMMIT');
  const [code] = await exited;
  assert.equal(code, 0, stderr);
  assert.equal(stdout, String(MIGRATIONS.length), 'the second opener found the schema made and ran no step again');
});

describe("SQLite's sweep deletes in a worker", () => {
  async function expiredStore(file: string, count: number): Promise<{ db: Database.Database; store: AccessStore }> {
    const db = openDatabase(file);
    const store = createSqliteAccessStore(db);
    for (let index = 0; index < count; index += 1) await login(store.sessions, newSession(`e${index}`, { expiresAt: NOW - MINUTE }));
    return { db, store };
  }

  it('on a connection of its own: it waits out a write the caller holds, then deletes', async () => {
    const { db, store } = await expiredStore(path.join(await sqliteDirectory(), 'worker-own-connection.db'), 3);
    try {
      db.exec('BEGIN IMMEDIATE'); // on the caller's connection the DELETE would run inside this transaction at once
      let answered = false;
      const deleting = store.sessions.deleteExpired(NOW, 10).then((rows) => ((answered = true), rows));
      await sleep(300);
      assert.equal(answered, false, 'the worker waits for the write lock');
      db.exec('ROLLBACK');
      assert.deepEqual(sortedSids(await deleting), ['e0', 'e1', 'e2']);
      assert.equal(await store.sessions.bySid('e0'), undefined, 'the caller sees the rows gone');
    } finally {
      await store.close();
      db.close();
    }
  });

  it('close waits for a batch under way and ends the worker; an in-memory database deletes on its own connection', async () => {
    const { db, store } = await expiredStore(path.join(await sqliteDirectory(), 'worker-close.db'), 4);
    const deleting = store.sessions.deleteExpired(NOW, 10);
    await store.close();
    assert.equal((await deleting).length, 4);
    db.close();

    const memory = new Database(':memory:');
    try {
      for (const step of MIGRATIONS) memory.exec(step);
      const inMemory = createSqliteAccessStore(memory);
      await login(inMemory.sessions, newSession('m1', { expiresAt: NOW - MINUTE }));
      assert.deepEqual(sids(await inMemory.sessions.deleteExpired(NOW, 10)), ['m1']);
      await inMemory.close();
    } finally {
      memory.close();
    }
  });

  it("a worker that cannot open the database falls back to the caller's connection", async () => {
    const file = path.join(await sqliteDirectory(), 'worker-cannot-open.db');
    const { db, store } = await expiredStore(file, 2);
    try {
      await rm(file); // the caller's open connection keeps the file; a new connection cannot find it
      assert.deepEqual(sortedSids(await store.sessions.deleteExpired(NOW, 10)), ['e0', 'e1']);
      assert.deepEqual(await store.sessions.deleteExpired(NOW, 10), []);
    } finally {
      await store.close();
      db.close();
    }
  });
});

describe('on PostgreSQL', { skip: postgresSkip() }, () => {
  storeContract('the access store on PostgreSQL', openPostgresStore);

  it('migrates once when five nodes start together', async () => {
    const url = await (await cluster()).database('store_contract_migrations');
    const pools = Array.from({ length: 5 }, () => createPool(url, 2));
    cleanups.push(() => Promise.all(pools.map(endPool)));
    await Promise.all(pools.map((pool) => migratePostgres(pool)));
    const versions = async () => (await pools[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((row) => row.version);
    assert.deepEqual(await versions(), POSTGRES_MIGRATIONS.map((_, index) => index + 1));
    await migratePostgres(pools[1]!);
    assert.deepEqual(await versions(), POSTGRES_MIGRATIONS.map((_, index) => index + 1), 'a later start finds nothing to do');
    const store = createPostgresAccessStore(pools[2]!);
    await store.keys.add(newKey('after the race'));
    assert.equal(await createPostgresAccessStore(pools[3]!).keys.count(), 1);
  });
});
