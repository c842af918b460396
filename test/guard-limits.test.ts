import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  createLoginThrottle,
  createMediaBudget,
  DEFAULT_GUARD_CONFIG,
  explain,
  loginDelaySeconds,
  type BudgetDecision,
  type LoginCheck,
  type LoginThrottle,
  type MediaBudget,
} from '../src/guard/index.js';

/*
 * The limiters read Date.now() and expire entries with setTimeout (rate-limiter-flexible), so
 * each test runs on node:test's mock clock: minutes of browsing take milliseconds, and the
 * limiters must be created after the clock is mocked.
 */

const START = Date.parse('2026-06-01T10:00:00Z');
const HOME = '198.51.100.20';

function mockClock(t: TestContext): { readonly now: () => number; advanceTo(at: number): void } {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: START });
  return {
    now: () => Date.now() - START,
    advanceTo(at) {
      const step = START + at - Date.now();
      if (step > 0) t.mock.timers.tick(step);
    },
  };
}

interface Tally {
  allowed: number;
  refused: BudgetDecision[];
}

/** Takes one request at each time (ms after START), in order; returns what the budget said. */
async function browse(clock: ReturnType<typeof mockClock>, budget: MediaBudget, times: readonly number[], session: string | undefined, address = HOME): Promise<Tally> {
  const tally: Tally = { allowed: 0, refused: [] };
  for (const at of times) {
    clock.advanceTo(at);
    const decision = await budget.take(session, address);
    if (decision.allow) tally.allowed += 1;
    else tally.refused.push(decision);
  }
  return tally;
}

/** `count` requests evenly over `durationMs`, starting at `from`. */
function evenly(count: number, durationMs: number, from = 0): number[] {
  return Array.from({ length: count }, (_, index) => from + Math.floor((index * durationMs) / count));
}

/** A person in the real UI: thumbnails while scrolling, then photos full screen with neighbours preloaded. */
function humanSession(from: number): number[] {
  const thumbnails = evenly(300, 10_000, from);
  const viewing = Array.from({ length: 150 }, (_, index) => from + 10_000 + index * 2000).flatMap((at) => [at, at + 50]);
  return [...thumbnails, ...viewing];
}

describe('media budget', () => {
  const rates = DEFAULT_GUARD_CONFIG.rates;

  it('refuses a burst over the budget with 429 and a Retry-After of at least a second', async (t) => {
    const clock = mockClock(t);
    const budget = createMediaBudget(rates);
    const tally = await browse(clock, budget, Array(rates.perSession.burst + 500).fill(0), 'session-a');
    assert.equal(tally.allowed, rates.perSession.burst + rates.perSession.perSecond);
    const [first] = tally.refused;
    assert.ok(first !== undefined && !first.allow);
    assert.equal(first.status, 429);
    assert.equal(first.policy, 'rates');
    assert.equal(first.endSession, false);
    assert.ok(Number.isInteger(first.retryAfterSeconds) && first.retryAfterSeconds >= 1);
    clock.advanceTo(first.retryAfterSeconds * 1000);
    assert.equal((await budget.take('session-a', HOME)).allow, true, 'allowed again after Retry-After');
  });

  it('never refuses a person: 300 thumbnails in 10 s, then a photo every 2 s for five minutes', async (t) => {
    const clock = mockClock(t);
    const tally = await browse(clock, createMediaBudget(rates), humanSession(0), 'session-a');
    assert.deepEqual(tally.refused, []);
    assert.equal(tally.allowed, 600);
  });

  it('never refuses a long scroll through a big album: 1000 thumbnails in a minute, then more', async (t) => {
    const clock = mockClock(t);
    const times = [...evenly(1000, 60_000), ...evenly(300, 30_000, 60_000), ...humanSession(90_000)];
    const tally = await browse(clock, createMediaBudget(rates), times, 'session-a');
    assert.deepEqual(tally.refused, []);
  });

  it('never refuses four people browsing at once from one home address', async (t) => {
    const clock = mockClock(t);
    const budget = createMediaBudget(rates);
    const requests = ['mum', 'dad', 'gran', 'kid']
      .flatMap((session, person) => humanSession(person * 7).map((at) => ({ at, session })))
      .sort((a, b) => a.at - b.at);
    let refused = 0;
    for (const { at, session } of requests) {
      clock.advanceTo(at);
      if (!(await budget.take(session, HOME)).allow) refused += 1;
    }
    assert.equal(refused, 0);
  });

  it('ends a session that keeps blowing its budget (the tripwire), and only then', async (t) => {
    const clock = mockClock(t);
    const budget = createMediaBudget(rates);
    let ended: BudgetDecision | undefined;
    let endedAt = 0;
    for (const at of evenly(100 * 600, 600_000)) {
      clock.advanceTo(at);
      const decision = await budget.take('scraper', HOME);
      if (!decision.allow && decision.endSession) {
        ended = decision;
        endedAt = at;
        break;
      }
    }
    assert.ok(ended !== undefined && !ended.allow, 'a session pulling 100 requests a second is ended');
    assert.equal(ended.policy, 'tripwire');
    assert.equal(ended.status, 429);
    assert.match(ended.reason, /3 times within 600 s/);
    // Three strikes: the first when the burst runs dry, then one per burst period.
    const period = (rates.perSession.burst / rates.perSession.perSecond) * 1000;
    assert.ok(endedAt >= 2 * period && endedAt <= 4 * period, `ended after ${endedAt} ms`);
    clock.advanceTo(endedAt + 5000);
    const straggler = await budget.take('scraper', HOME);
    assert.ok(!straggler.allow && straggler.endSession, 'requests still on their way are refused too');
    assert.equal((await budget.take('someone-else', HOME)).allow, true);
  });

  it('does not end a session that ran dry once and then browsed like a person', async (t) => {
    const clock = mockClock(t);
    const budget = createMediaBudget(rates);
    const burst = await browse(clock, budget, Array(rates.perSession.burst + 500).fill(0), 'eager');
    assert.ok(burst.refused.length > 0);
    // Scrolling on at once finds the burst spent (some thumbnails wait), but that is one episode.
    const scrolling = await browse(clock, budget, humanSession(1000), 'eager');
    assert.ok(scrolling.refused.every((decision) => !decision.allow && !decision.endSession));
    const later = await browse(clock, budget, humanSession(320_000), 'eager');
    assert.deepEqual(later.refused, [], 'the burst is whole again');
  });

  it('limits an address without a session (token guessing), counting IPv6 per /64', async (t) => {
    const clock = mockClock(t);
    const budget = createMediaBudget(rates);
    const { burst, perSecond } = rates.perAddress;
    const v4 = await browse(clock, budget, Array(burst + perSecond + 5).fill(0), undefined, '203.0.113.9');
    assert.equal(v4.allowed, burst + perSecond);
    assert.match(v4.refused[0]?.allow === false ? v4.refused[0].reason : '', /address over its media budget/);
    assert.equal((await budget.take(undefined, '::ffff:203.0.113.9')).allow, false, 'IPv4-mapped IPv6 is the same client');
    const addresses = Array.from({ length: burst + perSecond + 5 }, (_, index) => `2001:db8:1:2::${(index + 1).toString(16)}`);
    let allowed = 0;
    for (const address of addresses) if ((await budget.take(undefined, address)).allow) allowed += 1;
    assert.equal(allowed, burst + perSecond, 'rotating through one /64 does not buy a new budget');
    assert.equal((await budget.take(undefined, '2001:db8:1:3::1')).allow, true, 'another /64 is another client');
  });

  it('allows everything when switched off', async (t) => {
    const clock = mockClock(t);
    const tally = await browse(clock, createMediaBudget({ ...rates, enabled: false }), Array(5000).fill(0), 'session-a');
    assert.equal(tally.allowed, 5000);
  });
});

describe('login throttle', () => {
  const login = DEFAULT_GUARD_CONFIG.login;
  const GUESSER = '203.0.113.66';

  /** What the http layer does with a wrong password: ask first, and record the failure only when let through. */
  async function guessWrong(throttle: LoginThrottle, address: string): Promise<LoginCheck> {
    const check = await throttle.check(address);
    if (check.allowed) await throttle.recordFailure(address);
    return check;
  }

  it('doubles the wait after the free failures, up to the cap', () => {
    const delays = Array.from({ length: 20 }, (_, index) => loginDelaySeconds(index + 1, login));
    assert.deepEqual(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900, 900]);
  });

  it('makes an address wait longer after each failure, with Retry-After', async (t) => {
    const clock = mockClock(t);
    const throttle = createLoginThrottle(login);
    for (let failure = 1; failure <= 6; failure += 1) {
      assert.deepEqual(await guessWrong(throttle, GUESSER), { allowed: true }, `failure ${failure} is let through at once`);
    }
    const waits: number[] = [];
    for (let failure = 6; failure <= 9; failure += 1) {
      const check = await throttle.check(GUESSER);
      assert.ok(!check.allowed);
      assert.match(check.reason, new RegExp(`after ${failure} failed logins`));
      waits.push(check.retryAfterSeconds);
      clock.advanceTo(clock.now() + check.retryAfterSeconds * 1000 - 1);
      assert.equal((await throttle.check(GUESSER)).allowed, false, 'not a millisecond early');
      clock.advanceTo(clock.now() + 1);
      assert.equal((await guessWrong(throttle, GUESSER)).allowed, true);
    }
    assert.deepEqual(waits, [1, 2, 4, 8]);
    assert.deepEqual(await throttle.check('192.0.2.1'), { allowed: true }, 'other addresses do not wait');
  });

  it('lets one attempt through when many arrive at once, not one per request', async (t) => {
    const clock = mockClock(t);
    const throttle = createLoginThrottle(login);
    const first = await Promise.all(Array.from({ length: 100 }, () => guessWrong(throttle, GUESSER)));
    assert.equal(first.filter((check) => check.allowed).length, login.freeFailures + 1);
    clock.advanceTo(1000);
    const second = await Promise.all(Array.from({ length: 100 }, () => guessWrong(throttle, GUESSER)));
    assert.equal(second.filter((check) => check.allowed).length, 1);
  });

  it('makes a throttled address wait even with the right password; success then resets its count', async (t) => {
    const clock = mockClock(t);
    const throttle = createLoginThrottle(login);
    for (let failure = 1; failure <= 6; failure += 1) await guessWrong(throttle, GUESSER);
    // The http layer asks before verifying: the right password is never even looked at.
    const check = await throttle.check(GUESSER);
    assert.equal(check.allowed, false);
    clock.advanceTo(1000);
    // Allowed, and the wait before the next try is claimed at once (the password is not looked at yet).
    assert.equal((await throttle.check(GUESSER)).allowed, true);
    await throttle.recordSuccess(GUESSER);
    // The right password: the wait its own attempt started goes too, so a family member behind the
    // same router (or the same person in another tab) logs in at once, not after "Wait 1 second".
    assert.equal((await throttle.check(GUESSER)).allowed, true, 'no wait after a success');
    await throttle.recordSuccess(GUESSER);
    for (let failure = 1; failure <= 6; failure += 1) {
      assert.equal((await guessWrong(throttle, GUESSER)).allowed, true, 'the free failures again after a success');
    }
  });

  it('forgives failures on a right password once an hour, so one known password does not reset a guesser', async (t) => {
    // Someone who holds one key's password logged in after every five guesses at another key's,
    // and each login forgot the five: twenty guesses in a row and never a wait.
    const clock = mockClock(t);
    const throttle = createLoginThrottle(login);
    const rightPassword = async () => {
      const check = await throttle.check(GUESSER);
      if (check.allowed) await throttle.recordSuccess(GUESSER);
      return check.allowed;
    };
    for (let failure = 1; failure <= 5; failure += 1) assert.equal((await guessWrong(throttle, GUESSER)).allowed, true);
    assert.equal(await rightPassword(), true);
    for (let failure = 1; failure <= 5; failure += 1) assert.equal((await guessWrong(throttle, GUESSER)).allowed, true, 'forgiven: the free failures again');
    assert.equal(await rightPassword(), true, 'the right password itself is let through');
    const next = await guessWrong(throttle, GUESSER);
    assert.equal(next.allowed, true, 'the sixth failure since the forgiving is let through, and starts the wait');
    const after = await guessWrong(throttle, GUESSER);
    assert.equal(after.allowed, false, 'not forgiven twice within the hour: the wait holds');
    clock.advanceTo(clock.now() + 3600_000);
    assert.equal(await rightPassword(), true);
    for (let failure = 1; failure <= 5; failure += 1) assert.equal((await guessWrong(throttle, GUESSER)).allowed, true, `an hour later, forgiven again (${failure})`);
  });

  it('slows everyone down when failures pour in from many addresses', async (t) => {
    const clock = mockClock(t);
    const throttle = createLoginThrottle(login);
    for (let index = 0; index < login.global.failures; index += 1) {
      assert.equal((await guessWrong(throttle, `100.64.${index >> 8}.${index & 255}`)).allowed, true);
    }
    const family = '192.0.2.50';
    assert.deepEqual(await throttle.check(family), { allowed: true }, 'one try now');
    const second = await throttle.check(family);
    assert.ok(!second.allowed);
    assert.equal(second.retryAfterSeconds, login.global.delaySeconds);
    assert.match(second.reason, /many failed logins from everyone/);
    assert.deepEqual(explain(second.refusal), { policy: 'login', reason: second.reason, status: 429, retryAfterSeconds: login.global.delaySeconds });
    clock.advanceTo(login.global.delaySeconds * 1000);
    assert.equal((await throttle.check(family)).allowed, true, 'another try after the delay');
    clock.advanceTo(login.global.windowSeconds * 1000);
    assert.equal((await throttle.check(family)).allowed, true);
    assert.equal((await throttle.check(family)).allowed, true, 'no slow-down once the window has passed');
  });

  it('counts IPv6 guesses per /64, and does nothing when switched off', async (t) => {
    mockClock(t);
    const throttle = createLoginThrottle(login);
    for (let host = 1; host <= 6; host += 1) await guessWrong(throttle, `2001:db8:5:6::${host}`);
    assert.equal((await throttle.check('2001:db8:5:6::99')).allowed, false);
    const off = createLoginThrottle({ ...login, enabled: false });
    for (let failure = 1; failure <= 20; failure += 1) assert.equal((await guessWrong(off, GUESSER)).allowed, true);
  });
});
