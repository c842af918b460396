import type { SessionRecord, SessionStore } from '../store/index.js';

/*
 * The session behind a cookie, on every request, without asking the database each time. A read
 * of SQLite takes a read lock (two fcntl() calls), measured under load at 50 µs, the single
 * largest cost of serving a cached photo. A session seen live is remembered; on every later
 * request it still counts only while it has not expired and its token link is still in the web
 * root. Every end of a session removes its link, from whichever process: logout, expiry, the
 * sweeper, `keepsake sessions revoke` or `key remove` (the command line deletes the row, then
 * the link), so a session ended anywhere is dead here at the next request, as before.
 */

/** Sessions remembered at once; past it the oldest go (and are read again when next asked for). */
const KEPT = 50_000;

export interface LiveSessions {
  find(sid: string): Promise<SessionRecord | undefined>;
  /** Pushes the expiry forward (never past the cap); returns the new expiry, or undefined when the session is gone. */
  extend(sid: string, expiresAt: number): Promise<number | undefined>;
  forget(sid: string): void;
}

export function createLiveSessions(deps: { sessions: SessionStore; hasLink: (token: string) => boolean; now: () => number }): LiveSessions {
  const remembered = new Map<string, SessionRecord>();
  const remember = (record: SessionRecord): void => {
    if (remembered.size >= KEPT) remembered.delete(remembered.keys().next().value!);
    remembered.set(record.sid, record);
  };
  return {
    async find(sid) {
      const at = deps.now();
      const known = remembered.get(sid);
      if (known !== undefined && known.expiresAt > at && deps.hasLink(known.token)) return known;
      remembered.delete(sid);
      const record = await deps.sessions.findLive(sid, at);
      // A session whose link is gone is ending (or was ended by a crash mid-way): it opens nothing.
      if (record === undefined || !deps.hasLink(record.token)) return undefined;
      remember(record);
      return record;
    },
    async extend(sid, expiresAt) {
      const record = remembered.get(sid) ?? (await deps.sessions.bySid(sid));
      if (record === undefined || record.state !== 'active') return undefined;
      const capped = record.expiresCap === null ? expiresAt : Math.min(expiresAt, record.expiresCap);
      if (capped <= record.expiresAt) return record.expiresAt;
      if (!(await deps.sessions.setExpiry(sid, capped))) {
        remembered.delete(sid);
        return undefined;
      }
      if (remembered.has(sid)) remembered.set(sid, { ...record, expiresAt: capped });
      return capped;
    },
    forget: (sid) => void remembered.delete(sid),
  };
}
