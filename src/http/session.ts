import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Context } from 'koa';
import session from 'koa-session';
import { clearLinkCookie, type LinkCookies } from './link-cookie.js';
import type { SessionData } from './session-store.js';

export const SESSION_COOKIE = 'keepsake.sid';

/** The logged-in visitor behind a request, as the session store found it. */
export type Visitor = Omit<SessionData, '_expire' | '_maxAge'>;

interface SessionStore {
  get(sid: string): Promise<SessionData | undefined>;
  set(sid: string, data: Partial<SessionData>): Promise<void>;
  destroy(sid: string): Promise<void>;
}

/** The link cookie's lifetime: the session's, never past the key's or share's expiry. */
function linkCookieMaxAge(maxAge: number, expiresCap: number | null | undefined, now = Date.now()): number {
  return Math.max(0, Math.min(maxAge, (expiresCap ?? Number.POSITIVE_INFINITY) - now));
}

/**
 * koa-session with the store: a signed, httpOnly, SameSite=Lax cookie holding only the session
 * id; `secure` follows the request (TLS directly or via a trusted proxy). A login names its new
 * session id through `ctx.state.newSessionId`. Whenever the session cookie is written (a login,
 * a renewal as the session nears its end), the static server's link cookie is written with it,
 * so photos served from disk live exactly as long as the session.
 */
export function sessionMiddleware(app: Koa, store: SessionStore, maxAge: number, linkCookies: LinkCookies) {
  return session(
    {
      key: SESSION_COOKIE,
      maxAge,
      httpOnly: true,
      signed: true,
      sameSite: 'lax',
      renew: true,
      // Committed by commitSession(): before a file is streamed, or after the handler.
      autoCommit: false,
      store: {
        get: (sid: string) => store.get(sid),
        set: (sid: string, data: Partial<SessionData>) => store.set(sid, data),
        destroy: (sid: string) => store.destroy(sid),
      },
      genid: (ctx: Context) => (typeof ctx.state['newSessionId'] === 'string' ? ctx.state['newSessionId'] : randomUUID()),
      beforeSave(ctx: Context, saved: Partial<Visitor> & { readonly maxAge?: unknown }) {
        // The admin's preview never gets one: a static server must never send its media from disk (preview-session.ts).
        if (typeof saved.token !== 'string' || typeof saved.maxAge !== 'number' || saved.preview === true) return;
        linkCookies.set(ctx, saved.token, linkCookieMaxAge(saved.maxAge, saved.expiresCap));
      },
    },
    app,
  );
}

/**
 * Writes the session cookie now, at most once per request: media responses stream their
 * headers straight away, so a renewal must be committed before the first byte.
 */
export async function commitSession(ctx: Context): Promise<void> {
  if (ctx.state['sessionCommitted'] === true) return;
  ctx.state['sessionCommitted'] = true;
  await ctx.session?.manuallyCommit();
}

/**
 * Binds a freshly opened session to this browser: a new session id (never the one the
 * browser came with, against fixation), its lifetime, and both cookies written now.
 */
export async function startSession(ctx: Context, opened: { sid: string; token: string; expiresCap: number | null; preview?: boolean }, maxAge: number): Promise<void> {
  ctx.state['newSessionId'] = opened.sid;
  const session = ctx.session!;
  Object.assign(session, { sid: opened.sid, token: opened.token, expiresCap: opened.expiresCap, preview: opened.preview === true });
  session.maxAge = maxAge;
  await session.regenerate();
  ctx.state['sessionCommitted'] = true;
}

/** Ends this browser's session here: every cookie goes (the session cookie, its signature, the link cookie). */
export function forgetSession(ctx: Context, visitor: Visitor | undefined): void {
  if (visitor !== undefined) clearLinkCookie(ctx, visitor.token);
  ctx.session = null;
  // With autoCommit off, a session set to null is never committed (ctx.session reads null then), so koa-session would not clear its cookie.
  ctx.cookies.set(SESSION_COOKIE, null, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure });
}

/**
 * Renewal is decided when a request arrives, not when its answer is done. koa-session renews at
 * commit, once less than half the session's life is left; a request that arrived just before the
 * end and took a moment would find the row already swept by then, and the visitor, busy all
 * along, logged out. So a session in its second half is extended in the store at once (the
 * sweeper cannot take it meanwhile), and koa-session is told to write both cookies at commit.
 * A session is therefore alive for at least half its lifetime after any request arrives.
 */
/** True once less than half the session's life is left: the request that finds it so renews it. */
export function dueForRenewal(expiresAt: number, maxAge: number, now: number): boolean {
  return expiresAt - now < maxAge / 2;
}

export function renewOnArrival(sessions: { extendSession(sid: string, expiresAt: number): Promise<number | undefined> }, now: () => number = Date.now) {
  return async function renew(ctx: Context, next: () => Promise<unknown>): Promise<void> {
    const visitor = visitorOf(ctx);
    const session = ctx.session;
    if (visitor !== undefined && session !== null && typeof session.maxAge === 'number') {
      const at = now();
      const renewed = dueForRenewal(visitor.expiresAt, session.maxAge, at) ? await sessions.extendSession(visitor.sid, at + session.maxAge) : undefined;
      if (renewed !== undefined && renewed > visitor.expiresAt) {
        Object.assign(session, { expiresAt: renewed });
        // Setting maxAge (to the same value) is how koa-session is asked to save and write the cookie at commit.
        session.maxAge = session.maxAge;
      }
    }
    await next();
  };
}

/** Commits the session after the rest of the chain unless a handler already did. */
export async function commitAfter(ctx: Context, next: () => Promise<unknown>): Promise<void> {
  await next();
  await commitSession(ctx);
}

export function visitorOf(ctx: Context): Visitor | undefined {
  const data = ctx.session as Partial<Visitor> | null;
  if (data == null || typeof data.sid !== 'string' || typeof data.token !== 'string') return undefined;
  return data as Visitor;
}
