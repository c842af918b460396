import type { Context, Next } from 'koa';
import {
  compileGuard,
  decide,
  explain,
  hasRangeHeader,
  HONEYPOT_REFUSAL,
  isHoneypot,
  type GuardConfig,
  type MediaBudget,
  type MissLimiter,
  type MissTicket,
  type Refusal,
  type RequestFacts,
} from '../guard/index.js';
import type { Logger } from '../log.js';
import { isMediaPath, mediaKindOfPath, shortToken } from '../media-contract.js';
import type { RefusalsTable } from '../store/index.js';
import { respondRefusal } from './not-found.js';
import { ownOrigin } from './same-origin.js';
import { forgetSession, visitorOf } from './session.js';

export interface GuardDeps {
  readonly guard: GuardConfig;
  readonly publicUrl: string | undefined;
  readonly log: Logger;
  readonly refusals: RefusalsTable;
  readonly mediaBudget: MediaBudget;
  readonly misses: MissLimiter;
  readonly endSession: (sid: string) => Promise<unknown>;
  readonly guardSecret: string;
}

/** The facts the guard's pure policies decide on, read once from the request. */
export function requestFacts(ctx: Context, publicUrl: string | undefined): RequestFacts {
  const isMedia = isMediaPath(ctx.path);
  return {
    method: ctx.method,
    path: ctx.path,
    isMedia,
    mediaType: isMedia ? mediaKindOfPath(ctx.path) : undefined,
    userAgent: ctx.get('User-Agent'),
    referer: ctx.get('Referer'),
    origin: ctx.get('Origin'),
    secFetchSite: ctx.get('Sec-Fetch-Site'),
    hasRange: hasRangeHeader(ctx.headers),
    address: ctx.ip,
    ownOrigin: ownOrigin(ctx, publicUrl),
    host: ctx.host,
    publicOrigin: publicUrl,
  };
}

export function guardRefusals(deps: Pick<GuardDeps, 'log' | 'refusals'>) {
  /** Answers a refused request and writes its one log line: policy, reason, address, session label. */
  return function refuse(ctx: Context, refusal: Refusal): void {
    const visitor = visitorOf(ctx);
    ctx.state['decision'] = explain(refusal);
    deps.refusals.record(refusal.policy, Date.now());
    deps.log.warn(
      { policy: refusal.policy, reason: refusal.reason, address: ctx.ip, session: visitor === undefined ? undefined : `${visitor.label} ${shortToken(visitor.token)}` },
      'refused',
    );
    respondRefusal(ctx, refusal.status);
    if (refusal.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(refusal.retryAfterSeconds));
  };
}

/** Stateless policies (addresses, user agents, probing, hotlinks) on every request, before any session work. */
export function guardRequests(deps: GuardDeps) {
  const compiled = compileGuard(deps.guard);
  const refuse = guardRefusals(deps);
  return async function guard(ctx: Context, next: Next): Promise<void> {
    const decision = decide(requestFacts(ctx, deps.publicUrl), deps.guard, compiled);
    if (!decision.allow) return refuse(ctx, decision);
    await next();
  };
}

/**
 * Media only, once the session is known: the honeypot (a scraper walking the page ends its
 * session at once) and the per-session and per-address budgets with their tripwire.
 */
export function guardMedia(deps: GuardDeps) {
  const refuse = guardRefusals(deps);
  return async function mediaGuard(ctx: Context, next: Next): Promise<void> {
    if (!isMediaPath(ctx.path)) return next();
    const visitor = visitorOf(ctx);
    if (visitor !== undefined && deps.guard.honeypot.enabled && isHoneypot(ctx.path, visitor.token, deps.guardSecret)) {
      await deps.endSession(visitor.sid);
      refuse(ctx, HONEYPOT_REFUSAL);
      forgetSession(ctx, visitor);
      return;
    }
    const budget = await deps.mediaBudget.take(visitor?.sid, ctx.ip);
    if (!budget.allow) {
      if (budget.endSession && visitor !== undefined) {
        await deps.endSession(visitor.sid);
        deps.log.warn({ session: `${visitor.label} ${shortToken(visitor.token)}`, reason: budget.reason }, 'tripwire: session ended');
        refuse(ctx, budget);
        forgetSession(ctx, visitor);
        return;
      }
      return refuse(ctx, budget);
    }
    await next();
  };
}

/**
 * A derivative about to be made for this request (a miss): charged more than a hit against the
 * budgets, and only a few at once per session and address. Answers the refusal itself and
 * returns undefined when the miss may not go ahead now.
 */
export function guardMisses(deps: GuardDeps) {
  const refuse = guardRefusals(deps);
  return async function admitMiss(ctx: Context, target: string): Promise<MissTicket | undefined> {
    const visitor = visitorOf(ctx);
    const ticket = deps.misses.enter(visitor?.sid, ctx.ip, target);
    if ('allow' in ticket) {
      refuse(ctx, ticket);
      return undefined;
    }
    const charge = ticket.first && deps.misses.cost > 1;
    const budget = charge ? await deps.mediaBudget.take(visitor?.sid, ctx.ip, deps.misses.cost - 1) : { allow: true as const };
    if (!budget.allow) {
      ticket.release();
      refuse(ctx, budget);
      return undefined;
    }
    return ticket;
  };
}
