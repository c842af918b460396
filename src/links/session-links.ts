import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { shortToken } from '../media-contract.js';
import { StoreConflictError, type NewSessionRecord, type SessionRecord, type SessionStore } from '../store/index.js';
import { yieldToEventLoop } from '../time-slicer.js';
import { createTokenLink, hasTokenLink, listTokenLinks, removeTokenLink, removeTokenLinks, WebRootError } from './token-links.js';
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
 * crash at any point leaves either nothing or something reconcile() removes. End: link
 * first, then row (endRecords says why); the sweep's expired rows go first in one statement,
 * and a link it then cannot remove is an orphan every later sweep retries.
 */
export function createSessionLinks(options: SessionLinksOptions) {
  const { sessions, views, webRoot, log } = options;
  const now = options.now ?? Date.now;
  const step = options.afterLoginStep ?? (() => undefined);
  // Logins under way in this process: their pending rows are never a crash's leftover, however
  // old the (possibly just stepped) wall clock makes them look.
  const loginsInFlight = new Set<string>();

  /**
   * Links that could not be removed: one line per call however many (a read-only web root fails
   * them all), and no whole token in it (a log line must not hand out a live URL).
   */
  function logUnremoved(failed: ReadonlyArray<{ token: string; error: unknown }>): void {
    const [first] = failed;
    if (first === undefined) return;
    const code = (first.error as NodeJS.ErrnoException).code;
    log.error({ links: failed.length, code, first: shortToken(first.token) }, 'could not remove token links; the next sweep retries');
  }

  async function unlinkQuietly(token: string): Promise<void> {
    try {
      await removeTokenLink(webRoot, token);
    } catch (error) {
      logUnremoved([{ token, error }]);
    }
  }

  /** Removes links with the sweeper's rules (lstat first, never followed); returns the tokens whose link is still there, with the system's code. */
  async function unlinkAll(tokens: readonly string[]): Promise<Map<string, string | undefined>> {
    const failed = await removeTokenLinks(webRoot, tokens);
    logUnremoved(failed);
    return new Map(failed.map(({ token, error }) => [token, (error as NodeJS.ErrnoException).code]));
  }

  /**
   * Ends sessions link first, then row: a session is live only while its link is there
   * (live-sessions.ts), so it is over the moment the link goes, and a link that cannot be
   * removed keeps its row, so nothing says "ended" over a link that still serves. A crash
   * between the two leaves a linkless row, which serves nothing and which reconcile() ends.
   */
  async function endRecords(records: readonly { sid: string; token: string }[]): Promise<{ ended: number; kept: Map<string, string | undefined> }> {
    if (records.length === 0) return { ended: 0, kept: new Map() };
    const kept = await unlinkAll(records.map((record) => record.token));
    const ended = records.filter((record) => !kept.has(record.token));
    if (ended.length > 0) await sessions.deleteMany(ended.map((record) => record.sid));
    return { ended: ended.length, kept };
  }

  /** endRecords for an end someone asked for (logout, revocation): one that could not finish is an error they see. */
  async function endOrThrow(records: readonly { sid: string; token: string }[]): Promise<number> {
    const { ended, kept } = await endRecords(records);
    if (kept.size === 0) return ended;
    const [code] = kept.values();
    const what = kept.size === 1 ? 'could not remove a token link, so its session is kept' : `could not remove ${kept.size} token links, so their sessions are kept`;
    throw new WebRootError(what, webRoot, code);
  }

  /** Removes token links that no session row (pending or active) accounts for; returns the links left. */
  async function removeOrphanLinks(): Promise<{ orphans: number; linked: Set<string> }> {
    // List first, then read rows: a login writes its row before its link, so it is never mistaken.
    const links = await listTokenLinks(webRoot);
    const known = await sessions.tokens();
    const orphans = links.filter((token) => !known.has(token));
    const left = await unlinkAll(orphans);
    return { orphans: orphans.length - left.size, linked: new Set(links.filter((token) => known.has(token))) };
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
      // unlinkAll never rejects, so `next` is always awaited. A link it could not remove has lost
      // its row with the batch: the orphan pass of every later sweep retries it, and it is not counted.
      const left = await unlinkAll(batch.map((record) => record.token));
      expired += batch.length - left.size;
      await yieldToEventLoop();
    }
    const stale = (await sessions.stalePending(now() - PENDING_GRACE_MS)).filter((record) => !loginsInFlight.has(record.sid));
    expired += (await endRecords(stale)).ended;
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
            const { code } = error as NodeJS.ErrnoException;
            if (code === 'EEXIST') continue;
            throw new WebRootError('could not make the token link of a login', webRoot, code);
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

    /** Ends one session: its link, then its row (WebRootError, session kept, when the link stays). False when there was no such session. */
    async end(sid: string): Promise<boolean> {
      const record = await sessions.bySid(sid);
      if (record === undefined) return false;
      await endOrThrow([record]);
      return true;
    },

    /** Ends these sessions; throws WebRootError (after ending the rest) when some link could not be removed. */
    endAll: (records: readonly SessionRecord[]): Promise<number> => endOrThrow(records),

    /** Whether a session's token link is in the web root: every end of a session removes it. */
    hasLink: (token: string): boolean => hasTokenLink(webRoot, token),

    async sweep(): Promise<{ expired: number; orphans: number }> {
      const { expired, orphans } = await sweepAndList();
      return { expired, orphans };
    },

    /** At start-up, before listening: no login is in flight, so every pending row is a crash's leftover. */
    async reconcile(): Promise<{ removed: number }> {
      const pending = (await endRecords(await sessions.stalePending(Number.MAX_SAFE_INTEGER))).ended;
      // With the pending rows gone, the sweep's orphan pass leaves only links of active sessions.
      const { expired, orphans, linked } = await sweepAndList();
      // A session whose link is gone (its end cut short by a power cut that rolled the row
      // back, or a link deleted by hand) would show a broken gallery: end it, the visitor logs in again.
      const unlinkedTokens = [...(await sessions.activeTokens())].filter((token) => !linked.has(token));
      const linkless = (await Promise.all(unlinkedTokens.map((token) => sessions.byToken(token)))).filter((record) => record !== undefined);
      const unlinked = (await endRecords(linkless)).ended;
      const removed = pending + expired + orphans + unlinked;
      if (removed > 0) log.info({ pending, expired, orphans, unlinked }, 'start-up reconcile removed leftovers');
      return { removed };
    },
  };
}
