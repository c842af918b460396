import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import {
  compileGuard,
  decide,
  explain,
  hasRangeHeader,
  HONEYPOT_REFUSAL,
  isHoneypot,
  type BudgetRefusal,
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
import { forgetSession, visitorOf } from './session.js';
import { ownOrigin } from './same-origin.js';

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

/** Who asks and for which site, after trusted-proxy handling: what Koa's ctx.ip, .protocol and .host say. */
export interface RequestEdge {
  readonly address: string;
  readonly protocol: string;
  readonly host: string;
}

function header(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/**
 * The facts the guard's pure policies decide on, read once from the request: the same for the
 * Koa path and the fast path of cached photos (fast-media.ts), which both call this.
 */
export function requestFacts(request: IncomingMessage, path: string, edge: RequestEdge, publicUrl: string | undefined): RequestFacts {
  const isMedia = isMediaPath(path);
  return {
    method: request.method ?? 'GET',
    path,
    isMedia,
    mediaType: isMedia ? mediaKindOfPath(path) : undefined,
    userAgent: header(request, 'user-agent'),
    referer: header(request, 'referer'),
    origin: header(request, 'origin'),
    secFetchSite: header(request, 'sec-fetch-site'),
    hasRange: hasRangeHeader(request.headers),
    address: edge.address,
    ownOrigin: ownOrigin(edge, publicUrl),
    host: edge.host,
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
    const decision = decide(requestFacts(ctx.req, ctx.path, { address: ctx.ip, protocol: ctx.protocol, host: ctx.host }, deps.publicUrl), deps.guard, compiled);
    if (!decision.allow) return refuse(ctx, decision);
    await next();
  };
}

const BUDGET_REFUSED = Symbol('keepsake.mediaBudgetRefused');

/**
 * The fast path (fast-media.ts) took this request's media budget and was refused: the Koa chain,
 * which answers the refusal, must not take it a second time.
 */
export function carryBudgetRefusal(request: IncomingMessage, refusal: BudgetRefusal): void {
  (request as IncomingMessage & { [BUDGET_REFUSED]?: BudgetRefusal })[BUDGET_REFUSED] = refusal;
}

function carriedBudgetRefusal(request: IncomingMessage): BudgetRefusal | undefined {
  return (request as IncomingMessage & { [BUDGET_REFUSED]?: BudgetRefusal })[BUDGET_REFUSED];
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
    const budget = carriedBudgetRefusal(ctx.req) ?? (await deps.mediaBudget.take(visitor?.sid, ctx.ip));
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
