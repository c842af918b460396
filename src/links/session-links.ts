import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { shortToken } from '../media-contract.js';
import { StoreConflictError, type NewSessionRecord, type SessionRecord, type SessionStore } from '../store/index.js';
import { yieldToEventLoop } from '../time-slicer.js';
import { createTokenLink, hasTokenLink, listTokenLinks, removeTokenLink, removeTokenLinks } from './token-links.js';
import { newToken } from './tokens.js';
import type { Views } from './views.js';

export type SessionGrant = Omit<NewSessionRecord, 'sid' | 'token' | 'createdAt' | 'expiresAt'>;

/** Steps of a login after which a crash must leave nothing behind; tests kill the process at each. */
export type LoginStep = 'row-pending' | 'link-created' | 'row-active';

export interface SessionLinksOptions {
  readonly sessions: SessionStore;
  readonly views: Views;
  readonly webRoot: string;
  readonly log: Logger;
  readonly now?: () => number;
  /** Called after each login step; only tests pass one (to simulate a crash there). */
  readonly afterLoginStep?: (step: LoginStep) => void;
}

/** Rows per statement when expired sessions are swept: each holds SQLite's write lock (in the expiry worker) about 10 ms. */
const SWEEP_BATCH = 2000;
// A login takes milliseconds; a pending row older than this was left by a crash.
const PENDING_GRACE_MS = 60_000;

export type SessionLinks = ReturnType<typeof createSessionLinks>;

/**
 * The life of a session and its token link. Login: pending row → link → active row, so a
 * crash at any point leaves either nothing or something reconcile() removes. End: row
 * first, then link, so an interrupted end leaves at worst an orphan link for the sweep.
 */
export function createSessionLinks(options: SessionLinksOptions) {
  const { sessions, views, webRoot, log } = options;
  const now = options.now ?? Date.now;
  const step = options.afterLoginStep ?? (() => undefined);
  // Logins under way in this process: their pending rows are never a crash's leftover, however
  // old the (possibly just stepped) wall clock makes them look.
  const loginsInFlight = new Set<string>();

  async function unlinkQuietly(token: string): Promise<void> {
    try {
      await removeTokenLink(webRoot, token);
    } catch (error) {
      log.error({ err: error, token: shortToken(token) }, 'could not remove a token link; the next sweep retries');
    }
  }

  /** Removes the links of sessions whose rows are gone, each with the sweeper's rules; failures wait for the next sweep. */
  async function unlinkAll(tokens: readonly string[]): Promise<void> {
    for (const { token, error } of await removeTokenLinks(webRoot, tokens)) {
      log.error({ err: error, token: shortToken(token) }, 'could not remove a token link; the next sweep retries');
    }
  }

  async function endRecords(records: readonly { sid: string; token: string }[]): Promise<number> {
    if (records.length === 0) return 0;
    await sessions.deleteMany(records.map((record) => record.sid));
    await unlinkAll(records.map((record) => record.token));
    return records.length;
  }

  /** Removes token links that no session row (pending or active) accounts for; returns the links left. */
  async function removeOrphanLinks(): Promise<{ orphans: number; linked: Set<string> }> {
    // List first, then read rows: a login writes its row before its link, so it is never mistaken.
    const links = await listTokenLinks(webRoot);
    const known = await sessions.tokens();
    const orphans = links.filter((token) => !known.has(token));
    await unlinkAll(orphans);
    return { orphans: orphans.length, linked: new Set(links.filter((token) => known.has(token))) };
  }

  /**
   * One sweep: expired sessions and their links go in batches (yielding between them so
   * requests keep flowing), then links whose sessions were ended elsewhere (the CLI). Also
   * returns the links it left, so start-up need not list the web root again.
   */
  async function sweepAndList(): Promise<{ expired: number; orphans: number; linked: Set<string> }> {
    let expired = 0;
    // Row first, then link, as for every end: one statement deletes a batch and names its links.
    // The next batch is asked for before this one's links go, so the store deletes (SQLite: in
    // its worker) while this thread unlinks.
    let next = sessions.deleteExpired(now(), SWEEP_BATCH);
    for (;;) {
      const batch = await next;
      if (batch.length === 0) break;
      next = batch.length < SWEEP_BATCH ? Promise.resolve([]) : sessions.deleteExpired(now(), SWEEP_BATCH);
      // unlinkAll never rejects (a link it cannot remove waits for the next sweep), so `next` is always awaited.
      await unlinkAll(batch.map((record) => record.token));
      expired += batch.length;
      await yieldToEventLoop();
    }
    const stale = (await sessions.stalePending(now() - PENDING_GRACE_MS)).filter((record) => !loginsInFlight.has(record.sid));
    expired += await endRecords(stale);
    const { orphans, linked } = await removeOrphanLinks();
    if (expired + orphans > 0) log.info({ expired, orphans }, 'sweep removed sessions and links');
    return { expired, orphans, linked };
  }

  return {
    async open(grant: SessionGrant): Promise<SessionRecord> {
      const createdAt = now();
      const expiresAt = grant.expiresCap === null ? createdAt + grant.maxAge : Math.min(createdAt + grant.maxAge, grant.expiresCap);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const record: NewSessionRecord = { ...grant, sid: randomUUID(), token: newToken(), createdAt, expiresAt };
        loginsInFlight.add(record.sid);
        try {
          try {
            await sessions.insertPending(record);
          } catch (error) {
            if (error instanceof StoreConflictError) continue;
            throw error;
          }
          step('row-pending');
          try {
            await createTokenLink(webRoot, record.token, views.dirOf(grant.view));
          } catch (error) {
            await sessions.delete(record.sid);
            if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
            throw error;
          }
          step('link-created');
          if (!(await sessions.activate(record.sid))) {
            // Another process (`keepsake sessions revoke`, `keepsake sweep`) removed the pending row.
            await unlinkQuietly(record.token);
            throw new Error('the session was removed while it was being created');
          }
          step('row-active');
          return { ...record, deviceName: record.deviceName ?? null, preview: record.preview ?? false, state: 'active' };
        } finally {
          loginsInFlight.delete(record.sid);
        }
      }
      throw new Error('could not find a free token after 5 attempts');
    },

    /** Ends one session: its row, then its link. Returns false when there was no such session. */
    async end(sid: string): Promise<boolean> {
      const record = await sessions.bySid(sid);
      if (record === undefined) return false;
      await endRecords([record]);
      return true;
    },

    endAll: (records: readonly SessionRecord[]): Promise<number> => endRecords(records),

    /** Whether a session's token link is in the web root: every end of a session removes it. */
    hasLink: (token: string): boolean => hasTokenLink(webRoot, token),

    async sweep(): Promise<{ expired: number; orphans: number }> {
      const { expired, orphans } = await sweepAndList();
      return { expired, orphans };
    },

    /** At start-up, before listening: no login is in flight, so every pending row is a crash's leftover. */
    async reconcile(): Promise<{ removed: number }> {
      const pending = await endRecords(await sessions.stalePending(Number.MAX_SAFE_INTEGER));
      // With the pending rows gone, the sweep's orphan pass leaves only links of active sessions.
      const { expired, orphans, linked } = await sweepAndList();
      // A session whose link is gone (its end cut short by a power cut that rolled the row
      // back, or a link deleted by hand) would show a broken gallery: end it, the visitor logs in again.
      const unlinkedTokens = [...(await sessions.activeTokens())].filter((token) => !linked.has(token));
      const linkless = (await Promise.all(unlinkedTokens.map((token) => sessions.byToken(token)))).filter((record) => record !== undefined);
      const unlinked = await endRecords(linkless);
      const removed = pending + expired + orphans + unlinked;
      if (removed > 0) log.info({ pending, expired, orphans, unlinked }, 'start-up reconcile removed leftovers');
      return { removed };
    },
  };
}
