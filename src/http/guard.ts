import type { Context, Next } from 'koa';
import type { Config } from '../config.js';
import {
  compileGuard,
  decide,
  explain,
  hasRangeHeader,
  HONEYPOT_REFUSAL,
  isHoneypot,
  type MediaBudget,
  type Refusal,
  type RequestFacts,
} from '../guard/index.js';
import { mediaTypeOf } from '../library/media-types.js';
import type { SessionLinks } from '../links/index.js';
import { labelToken, type Logger } from '../log.js';
import type { RefusalsTable } from '../store/index.js';
import { parseMediaPath } from './media-path.js';
import { respondNotFound } from './not-found.js';
import { ownOrigin } from './same-origin.js';
import { visitorOf } from './session.js';

export interface GuardDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly refusals: RefusalsTable;
  readonly mediaBudget: MediaBudget;
  readonly sessionLinks: SessionLinks;
  readonly guardSecret: string;
}

/** The facts the guard's pure policies decide on, read once from the request. */
export function requestFacts(ctx: Context, publicUrl: string | undefined): RequestFacts {
  const media = parseMediaPath(ctx.path);
  return {
    method: ctx.method,
    path: ctx.path,
    isMedia: media !== undefined,
    mediaType: media === undefined ? undefined : mediaTypeOf(media.encodedRest),
    userAgent: ctx.get('User-Agent'),
    referer: ctx.get('Referer'),
    origin: ctx.get('Origin'),
    secFetchSite: ctx.get('Sec-Fetch-Site'),
    hasRange: hasRangeHeader(ctx.headers),
    address: ctx.ip,
    ownOrigin: ownOrigin(ctx, publicUrl),
  };
}

const BODIES: Record<Refusal['status'], string> = {
  403: 'Forbidden\n',
  404: '',
  429: 'Too many requests. Slow down and try again shortly.\n',
};

export function guardRefusals(deps: Pick<GuardDeps, 'log' | 'refusals'>) {
  /** Answers a refused request and writes its one log line: policy, reason, address, session label. */
  return function refuse(ctx: Context, refusal: Refusal): void {
    const visitor = visitorOf(ctx);
    ctx.state['decision'] = explain(refusal);
    deps.refusals.record(refusal.policy, Date.now());
    deps.log.warn(
      { policy: refusal.policy, reason: refusal.reason, address: ctx.ip, session: visitor === undefined ? undefined : `${visitor.label} ${labelToken(visitor.token)}` },
      'refused',
    );
    if (refusal.status === 404) return respondNotFound(ctx);
    ctx.status = refusal.status;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = BODIES[refusal.status];
    if (refusal.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(refusal.retryAfterSeconds));
  };
}

/** Stateless policies (addresses, user agents, probing, hotlinks) on every request, before any session work. */
export function guardRequests(deps: GuardDeps) {
  const compiled = compileGuard(deps.config.guard);
  const refuse = guardRefusals(deps);
  return async function guard(ctx: Context, next: Next): Promise<void> {
    const decision = decide(requestFacts(ctx, deps.config.publicUrl), deps.config.guard, compiled);
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
    if (parseMediaPath(ctx.path) === undefined) return next();
    const visitor = visitorOf(ctx);
    if (visitor !== undefined && deps.config.guard.honeypot.enabled && isHoneypot(ctx.path, visitor.token, deps.guardSecret)) {
      await deps.sessionLinks.end(visitor.sid);
      refuse(ctx, HONEYPOT_REFUSAL);
      ctx.session = null;
      return;
    }
    const budget = await deps.mediaBudget.take(visitor?.sid, ctx.ip);
    if (!budget.allow) {
      if (budget.endSession && visitor !== undefined) {
        await deps.sessionLinks.end(visitor.sid);
        deps.log.warn({ session: `${visitor.label} ${labelToken(visitor.token)}`, reason: budget.reason }, 'tripwire: session ended');
        refuse(ctx, budget);
        ctx.session = null;
        return;
      }
      return refuse(ctx, budget);
    }
    await next();
  };
}
