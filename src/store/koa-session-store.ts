import type { SessionStore } from './ports.js';
import type { SessionRecord } from './sessions-table.js';

/** What koa-session keeps in `ctx.session` for a logged-in visitor. */
export type SessionData = Omit<SessionRecord, 'state' | 'maxAge'> & { _expire: number; _maxAge: number };

/**
 * koa-session's external store over the sessions table. Rows are only ever created by the
 * login sequence (which also makes the token link); koa-session may read them, push their
 * expiry forward on renewal (never past the key's or share's cap) and end them.
 */
export function createKoaSessionStore(
  sessions: SessionStore,
  endSession: (sid: string) => Promise<void>,
  now: () => number = Date.now,
) {
  return {
    async get(sid: string): Promise<SessionData | undefined> {
      const record = await sessions.findLive(sid, now());
      if (record === undefined) return undefined;
      // `maxAge` is handed over as `_maxAge`: a plain `maxAge` key would make koa-session re-save every request.
      const { state: _state, maxAge: _maxAge, ...data } = record;
      return { ...data, _expire: record.expiresAt, _maxAge: record.maxAge };
    },
    async set(sid: string, data: Partial<SessionData>): Promise<void> {
      const record = await sessions.bySid(sid);
      if (record === undefined || typeof data._expire !== 'number') return;
      const expiresAt = record.expiresCap === null ? data._expire : Math.min(data._expire, record.expiresCap);
      if (expiresAt > record.expiresAt) await sessions.setExpiry(sid, expiresAt);
    },
    async destroy(sid: string): Promise<void> {
      await endSession(sid);
    },
  };
}
