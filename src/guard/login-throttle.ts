import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { addressKey } from './addresses.js';
import type { GuardConfig } from './config.js';
import { memoryCounters, type Counters } from './counters.js';
import { refuseForNow, type Refusal } from './facts.js';

/*
 * Brute force against the shared password, slowed per address and for everyone at once.
 *
 * Per address: `freeFailures` (5) wrong passwords cost nothing — family members mistype. Each
 * attempt after that makes the address wait before the next, doubling from `firstDelaySeconds`
 * (1 s, 2 s, 4 s …) up to `maxDelaySeconds` (15 min). An attempt counts as a failure from the
 * moment check() lets it through until recordSuccess() forgets the count (and the wait that
 * attempt started, so the next login from that router is not held up), at most once an hour, so
 * a known password is no way to reset a guesser; otherwise the count is
 * forgotten `forgetAfterSeconds` (a day) after the first attempt.
 *
 * Globally: once `global.failures` (100) wrong passwords arrived within `global.windowSeconds`
 * (10 min) — from anywhere, as a botnet spreads them over many addresses — every address may
 * try only once per `global.delaySeconds` (10 s) until the window ends. Everyone waits a bit;
 * nobody is locked out.
 *
 * Memory stays bounded: only attempts that check() let through are counted, so the entries are
 * bounded by the attempts these throttles admit in a day, and IPv6 is counted per /56.
 */

export type LoginCheck =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly retryAfterSeconds: number;
      /** The same wait exactly: what is left of it now. */
      readonly retryAfterMs: number;
      readonly reason: string;
      /** The same, as a guard decision for explain() and the refusal log. */
      readonly refusal: Refusal;
    };

export interface LoginThrottle {
  /**
   * Call once per login attempt, BEFORE looking at the password: a throttled address waits even
   * when its password is right, or the throttle would tell a guesser which guess was right.
   */
  check(address: string): Promise<LoginCheck>;
  /** A wrong password from this address (after check() allowed the attempt). */
  recordFailure(address: string): Promise<void>;
  /**
   * A right password (after check() allowed the attempt): the address's failures and the wait its
   * attempt started are forgotten, once an hour; after that only this attempt stops counting.
   */
  recordSuccess(address: string): Promise<void>;
  /** The attempt check() counted was never made (the server was too busy to check it): it does not count. */
  cancel(address: string): Promise<void>;
}

/** A home connection is usually given a /56 of IPv6 and may use every address in it. */
const LOGIN_PREFIX_BITS = 56;

type LoginOptions = GuardConfig['login'];

const GLOBAL_KEY = 'everyone';
/** How often a right password forgets an address's failures. */
const FORGIVE_EVERY_SECONDS = 3600;

/** The wait after the `failures`-th consecutive failure, in whole seconds (0 while still free). */
export function loginDelaySeconds(failures: number, options: Pick<LoginOptions, 'freeFailures' | 'firstDelaySeconds' | 'maxDelaySeconds'>): number {
  const over = failures - options.freeFailures;
  if (over <= 0) return 0;
  return Math.min(options.maxDelaySeconds, options.firstDelaySeconds * 2 ** Math.min(over - 1, 40));
}

function refused(waitMs: number, reason: string): LoginCheck {
  const refusal = refuseForNow('login', reason, waitMs);
  return { allowed: false, retryAfterSeconds: refusal.retryAfterSeconds ?? 1, retryAfterMs: waitMs, reason, refusal };
}

export function createLoginThrottle(options: LoginOptions, counters: Counters = memoryCounters): LoginThrottle {
  // Counters only: penalty() counts without refusing, so `points` plays no part in decisions.
  const attempts = counters({ keyPrefix: 'login-attempts', points: 1, duration: options.forgetAfterSeconds });
  const everyone = counters({ keyPrefix: 'login-global', points: options.global.failures, duration: options.global.windowSeconds });
  // A record here is a wait: the first consume() opens it for the given time, later ones are refused.
  const waits = counters({ keyPrefix: 'login-wait', points: 1, duration: 1 });
  const slowed = counters({ keyPrefix: 'login-global-turn', points: 1, duration: options.global.delaySeconds });
  // A record here is a forgiving: a right password forgets the address's failures once per hour.
  const forgiven = counters({ keyPrefix: 'login-forgiven', points: 1, duration: FORGIVE_EVERY_SECONDS });

  /** Claims the right to try now and starts the wait before the next try; undefined when the address must wait. */
  async function claim(limiter: RateLimiterAbstract, key: string, seconds?: number): Promise<number | undefined> {
    try {
      await limiter.consume(key, 1, seconds === undefined ? {} : { customDuration: seconds });
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return rejection.msBeforeNext;
    }
  }

  async function globalTurn(key: string): Promise<LoginCheck> {
    const recent = await everyone.get(GLOBAL_KEY);
    if (recent === null || recent.consumedPoints < options.global.failures) return { allowed: true };
    const waitMs = await claim(slowed, key);
    return waitMs === undefined ? { allowed: true } : refused(waitMs, `many failed logins from everyone: one try per ${options.global.delaySeconds} s`);
  }

  /**
   * Every attempt counts as a failure until recordSuccess says otherwise, and the count and the
   * wait are taken in single atomic steps: a guesser sending many attempts at once gets one
   * through, not one per request that happened to arrive before the first failure was recorded.
   */
  async function addressTurn(key: string): Promise<LoginCheck> {
    const attempt = (await attempts.penalty(key)).consumedPoints;
    const delay = loginDelaySeconds(attempt, options);
    if (delay === 0) return { allowed: true };
    const waitMs = await claim(waits, key, delay);
    if (waitMs === undefined) return { allowed: true };
    await attempts.reward(key); // refused attempts do not count
    return refused(waitMs, `address waits after ${attempt - 1} failed logins`);
  }

  return {
    async check(address) {
      if (!options.enabled) return { allowed: true };
      const key = addressKey(address, LOGIN_PREFIX_BITS);
      const waiting = await waits.get(key);
      if (waiting !== null && waiting.msBeforeNext > 0) {
        return refused(waiting.msBeforeNext, `address waits after ${(await attempts.get(key))?.consumedPoints ?? 0} failed logins`);
      }
      const global = await globalTurn(key);
      return global.allowed ? addressTurn(key) : global;
    },
    async recordFailure() {
      // The address's count was taken by check(); only the count of everyone is left.
      if (options.enabled) await everyone.penalty(GLOBAL_KEY);
    },
    async recordSuccess(address) {
      if (!options.enabled) return;
      const key = addressKey(address, LOGIN_PREFIX_BITS);
      // The wait this attempt claimed goes: the right password has told its sender all there is.
      await waits.delete(key);
      // The failures are forgiven at most once an hour: someone holding one password cannot log in
      // after every few guesses at another key's to start afresh. Otherwise only this attempt stops counting.
      if ((await claim(forgiven, key)) === undefined) await attempts.delete(key);
      else await attempts.reward(key);
    },
    async cancel(address) {
      if (options.enabled) await attempts.reward(addressKey(address, LOGIN_PREFIX_BITS));
    },
  };
}
