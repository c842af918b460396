import { BurstyRateLimiter, RateLimiterRes } from 'rate-limiter-flexible';
import { addressKey } from './addresses.js';
import type { GuardConfig } from './config.js';
import { memoryCounters, type Counters } from './counters.js';
import { ALLOW, retryAfterSeconds, type Allowed, type PolicyName, type Refusal } from './facts.js';

/*
 * Media budgets: a token bucket per session and per address, refusing with 429 and Retry-After.
 *
 * Built from rate-limiter-flexible, which has no token bucket of its own: a steady limiter of
 * `perSecond` requests per one-second window, backed by a burst pool of `burst` requests that is
 * whole again `burst / perSecond` seconds after it was first drawn on (the time a token bucket
 * takes to refill). A client that never stops can therefore average up to 2 × perSecond; a
 * client that stops finds its full burst again within that time, as with a token bucket.
 *
 * Defaults, per session: a burst of 2000 and 20 per second, whole again after 100 s.
 * - An album page lazy-loads its thumbnails; a screen holds 20–60 (a 4K screen), and a fast
 *   flick through a big album asks for a few screens a second, 100+ requests a second for
 *   several seconds. 2000 covers a 1,000-photo album scrolled end to end at any speed plus
 *   the viewer; 20/s covers scrolling that goes on. Families must never meet this limit.
 * - Full-screen viewing costs 1–3 requests a photo (the photo and the neighbours PhotoSwipe
 *   preloads), and nobody looks at more than a few photos a second for long.
 * Per address: a burst of 8000 and 80 per second, four sessions' worth — a family at home
 * behind one NAT. It also bounds a client spreading itself over many sessions from one address,
 * and requests without any session (guessing tokens).
 *
 * The tripwire: a session refused again after one burst period (100 s by default) has run dry
 * once more; after `strikes` such episodes within `windowSeconds` (3 in 10 minutes) it is ended.
 * A person would have to use up 2000 requests three times over within ten minutes, which the
 * real UI cannot make them do; a scraper pulling at full speed is ended within about two minutes.
 * Refusals within one period count once, so one fast scroll that hits the limit is one strike.
 *
 * Memory stays bounded: every limiter entry expires (after 1 s, one burst period, or the
 * tripwire window), and IPv6 addresses are counted per /64, so rotating through one's own
 * prefix does not make new entries.
 */

export type BudgetRefusal = Refusal & {
  readonly status: 429;
  readonly retryAfterSeconds: number;
  /** The session blew its budget too often: end it and sweep its link now. */
  readonly endSession: boolean;
};

export type BudgetDecision = Allowed | BudgetRefusal;

export interface MediaBudget {
  /**
   * Spends `cost` (default 1) from the session's budget (when there is a session) and the
   * address's. Call once per media request, after the stateless policies allowed it.
   */
  take(sessionKey: string | undefined, address: string, cost?: number): Promise<BudgetDecision>;
}

type Rates = GuardConfig['rates'];
type Budget = Rates['perSession'];

function refillSeconds(budget: Budget): number {
  return Math.max(1, Math.ceil(budget.burst / budget.perSecond));
}

/** The steady rate, with the burst pool behind it for when the steady rate runs out. */
function createBucket(name: string, budget: Budget, counters: Counters): BurstyRateLimiter {
  return new BurstyRateLimiter(
    counters({ keyPrefix: `${name}-steady`, points: budget.perSecond, duration: 1 }),
    counters({ keyPrefix: `${name}-burst`, points: budget.burst, duration: refillSeconds(budget) }),
  );
}

/** Milliseconds to wait when the limiter refuses, undefined when it allows. */
async function spend(limiter: BurstyRateLimiter, key: string, cost: number): Promise<number | undefined> {
  try {
    await limiter.consume(key, cost);
    return undefined;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return rejection.msBeforeNext;
    throw rejection;
  }
}

function overBudget(policy: PolicyName, reason: string, waitMs: number, endSession: boolean): BudgetRefusal {
  return { allow: false, policy, reason, status: 429, retryAfterSeconds: retryAfterSeconds(waitMs), endSession };
}

/**
 * Counts episodes of running dry, at most one per `periodSeconds`. Once a session has `strikes`
 * of them it stays tripped until the window passes, so requests already on their way when the
 * http layer ends the session are refused too.
 */
function createTripwire(options: Rates['tripwire'], periodSeconds: number, counters: Counters) {
  // A period longer than window / strikes could never gather enough strikes in the window.
  const spacing = Math.max(1, Math.floor(Math.min(periodSeconds, options.windowSeconds / options.strikes)));
  const episode = counters({ keyPrefix: 'tripwire-episode', points: 1, duration: spacing });
  const strikes = counters({ keyPrefix: 'tripwire-strikes', points: options.strikes, duration: options.windowSeconds });
  async function tripped(sessionKey: string): Promise<boolean> {
    return options.enabled && ((await strikes.get(sessionKey))?.consumedPoints ?? 0) >= options.strikes;
  }
  return {
    tripped,
    async strike(sessionKey: string): Promise<boolean> {
      if (!options.enabled) return false;
      if ((await episode.penalty(sessionKey)).consumedPoints === 1) await strikes.penalty(sessionKey);
      return tripped(sessionKey);
    },
  };
}

export function createMediaBudget(rates: Rates, counters: Counters = memoryCounters): MediaBudget {
  const perSession = createBucket('media-session', rates.perSession, counters);
  const perAddress = createBucket('media-address', rates.perAddress, counters);
  const tripwire = createTripwire(rates.tripwire, refillSeconds(rates.perSession), counters);
  const tripReason = `session over its media budget ${rates.tripwire.strikes} times within ${rates.tripwire.windowSeconds} s`;

  async function takeFromSession(sessionKey: string, cost: number): Promise<BudgetDecision> {
    if (await tripwire.tripped(sessionKey)) return overBudget('tripwire', tripReason, rates.tripwire.windowSeconds * 1000, true);
    const waitMs = await spend(perSession, sessionKey, cost);
    if (waitMs === undefined) return ALLOW;
    if (await tripwire.strike(sessionKey)) return overBudget('tripwire', tripReason, waitMs, true);
    return overBudget('rates', 'session over its media budget', waitMs, false);
  }

  return {
    async take(sessionKey, address, cost = 1) {
      if (!rates.enabled) return ALLOW;
      if (sessionKey !== undefined) {
        const decision = await takeFromSession(sessionKey, cost);
        if (!decision.allow) return decision;
      }
      const waitMs = await spend(perAddress, addressKey(address), cost);
      return waitMs === undefined ? ALLOW : overBudget('rates', 'address over its media budget', waitMs, false);
    },
  };
}
