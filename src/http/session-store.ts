import type { Access } from '../access/index.js';
import type { SessionRecord } from '../store/index.js';

/** What koa-session keeps in `ctx.session` for a logged-in visitor. */
export type SessionData = Omit<SessionRecord, 'state' | 'maxAge'> & { _expire: number; _maxAge: number };

/**
 * koa-session's external store, over the access operations. Sessions are only ever created by
 * the login sequence (which also makes the token link); koa-session may read them, push their
 * expiry forward on renewal (never past the key's or share's cap) and end them.
 */
export function createKoaSessionStore(access: Pick<Access, 'liveSession' | 'extendSession' | 'endSession'>) {
  return {
    async get(sid: string): Promise<SessionData | undefined> {
      const record = await access.liveSession(sid);
      if (record === undefined) return undefined;
      // `maxAge` is handed over as `_maxAge`: a plain `maxAge` key would make koa-session re-save every request.
      const { state: _state, maxAge: _maxAge, ...data } = record;
      return { ...data, _expire: record.expiresAt, _maxAge: record.maxAge };
    },
    async set(sid: string, data: Partial<SessionData>): Promise<void> {
      if (typeof data._expire === 'number') await access.extendSession(sid, data._expire);
    },
    async destroy(sid: string): Promise<void> {
      await access.endSession(sid);
    },
  };
}
