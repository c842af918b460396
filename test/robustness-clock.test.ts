import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import cron from 'node-cron';
import { createSessionLinks, createViews, startSweeper, type SessionGrant, type SessionLinks } from '../src/links/index.js';
import { createLogger, type Logger } from '../src/log.js';
import { createSqliteAccessStore, openDatabase, type Db, type SessionStore } from '../src/store/index.js';
import { tempDir } from './helpers/fixtures.js';
import { exists, sorted, tokenLinkNames } from './helpers/robustness-state.js';

/**
 * Case 4 of issue 8: the wall clock jumps (NTP correcting a box that booted with a stale
 * clock, a VM resumed, an admin's `date -s`). Expiry is an absolute time, so a jump only
 * changes which sessions are expired *now*; it must never sweep a live one, and the sweeper
 * must neither stall nor spin.
 */

const HOUR = 3_600_000;
const MINUTE = 60_000;

function logSink(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

function grant(maxAge: number): SessionGrant {
  return { keyId: null, shareId: null, label: 'clock', albums: ['*'], canDownloadOriginals: true, view: 'key-1', maxAge, expiresCap: null, location: 'none' };
}

describe('session expiry under a moving clock', () => {
  let db: Db;
  let sessions: SessionStore;
  let webRoot: string;
  let clock: number;
  let links: SessionLinks;
  let lines: Record<string, unknown>[];
  let onStep: ((step: string) => void) | undefined;

  before(async () => {
    const dir = await tempDir('keepsake-clock-');
    for (const folder of ['webroot', 'views/key-1', 'media', 'cache']) await mkdir(path.join(dir, folder), { recursive: true });
    webRoot = path.join(dir, 'webroot');
    db = openDatabase(path.join(dir, 'keepsake.db'));
    sessions = createSqliteAccessStore(db).sessions;
    const sink = logSink();
    lines = sink.lines;
    const views = createViews({ viewsDir: path.join(dir, 'views'), mediaRoot: path.join(dir, 'media'), cacheDir: path.join(dir, 'cache'), log: sink.log, derivativeVariants: [], reviewGate: false });
    links = createSessionLinks({ sessions, views, webRoot, log: sink.log, now: () => clock, afterLoginStep: (step) => onStep?.(step) });
  });
  after(() => db.close());

  /** Ends every session, so each test starts from an empty table and web root. */
  async function reset(at: number): Promise<void> {
    clock = at;
    onStep = undefined;
    await links.endAll(await sessions.live(0));
    await links.reconcile();
    assert.deepEqual(sorted(await tokenLinkNames(webRoot)), []);
  }

  it('stores expiry as an absolute time that no later clock reading changes', async () => {
    const start = Date.UTC(2025, 5, 1, 12);
    await reset(start);
    const session = await links.open(grant(HOUR));
    assert.equal(session.expiresAt, start + HOUR);
    for (const shift of [-2 * HOUR, HOUR - MINUTE, -MINUTE]) {
      clock = start + shift;
      await links.sweep();
      assert.equal((await sessions.bySid(session.sid))?.expiresAt, start + HOUR, `stored expiry unchanged at ${shift / HOUR} h`);
    }
  });

  it('sweeping twice is harmless, before and after an expiry', async () => {
    const start = Date.UTC(2025, 5, 2, 12);
    await reset(start);
    const short = await links.open(grant(HOUR));
    const long = await links.open(grant(3 * HOUR));
    assert.deepEqual(await links.sweep(), { expired: 0, orphans: 0 });
    assert.deepEqual(await links.sweep(), { expired: 0, orphans: 0 });
    clock = start + HOUR;
    assert.deepEqual(await links.sweep(), { expired: 1, orphans: 0 }, 'expired at exactly its expiry');
    assert.deepEqual(await links.sweep(), { expired: 0, orphans: 0 }, 'the second sweep finds nothing more');
    assert.equal(await exists(path.join(webRoot, short.token)), false);
    assert.equal(await exists(path.join(webRoot, long.token)), true);
    assert.deepEqual(sorted(await tokenLinkNames(webRoot)), [long.token]);
    assert.deepEqual(lines.filter((line) => (line['level'] as number) >= 50), [], 'no error logged');
  });

  it('a jump of 2 h back sweeps nothing; a jump of 2 h forward sweeps only what expired by then', async () => {
    const start = Date.UTC(2025, 5, 3, 12);
    await reset(start);
    const opened = new Map<number, string>();
    for (const hours of [1, 3, 12]) opened.set(hours, (await links.open(grant(hours * HOUR))).token);
    clock = start - 2 * HOUR;
    assert.deepEqual(await links.sweep(), { expired: 0, orphans: 0 });
    assert.deepEqual(await tokenLinkNames(webRoot), new Set(opened.values()), 'every link is still there');
    // Sessions opened while the clock was behind keep their absolute expiry too.
    const whileBehind = await links.open(grant(4 * HOUR));
    assert.equal(whileBehind.expiresAt, start + 2 * HOUR);
    clock = start + 2 * HOUR - 1;
    assert.deepEqual(await links.sweep(), { expired: 1, orphans: 0 }, 'only the 1 h session had expired');
    assert.deepEqual(await tokenLinkNames(webRoot), new Set([opened.get(3), opened.get(12), whileBehind.token]));
    for (const token of [opened.get(3), opened.get(12), whileBehind.token]) {
      assert.equal((await sessions.byToken(token!))?.state, 'active', 'a live session keeps its row');
    }
  });

  it('a login under way while the clock jumps 2 h forward ends with its row and its link together', async () => {
    const start = Date.UTC(2025, 5, 4, 12);
    await reset(start);
    // The sweeper's tick lands between the login's pending row and its link, just after NTP moved the clock.
    onStep = (step) => {
      if (step !== 'row-pending') return;
      onStep = undefined;
      clock += 2 * HOUR;
      void links.sweep();
    };
    const outcome = await links.open(grant(12 * HOUR)).then(
      (session) => session,
      () => undefined,
    );
    await sleep(20);
    const rows = await sessions.live(clock);
    const linked = await tokenLinkNames(webRoot);
    if (outcome === undefined) {
      assert.deepEqual(sorted(linked), [], 'a failed login leaves no link');
    } else {
      assert.equal((await sessions.bySid(outcome.sid))?.state, 'active', 'the session the visitor was given exists');
      assert.deepEqual(sorted(linked), [outcome.token]);
    }
    assert.deepEqual(sorted(linked), sorted(rows.map((row) => row.token)), 'links = live sessions');
  });
});

/**
 * The wall clock seen by `Date` (and so by node-cron), shifted by `offset`; timers keep real,
 * monotonic time, as they do on a real machine when NTP steps the clock.
 */
function shiftWallClock(): { set(offsetMs: number): void; restore(): void } {
  const RealDate = Date;
  let offset = 0;
  class ShiftedDate extends RealDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as ConstructorParameters<DateConstructor>));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
  return {
    set: (offsetMs) => {
      offset = offsetMs;
    },
    restore: () => {
      globalThis.Date = RealDate;
    },
  };
}

describe('the sweeper under a moving clock', () => {
  let cronWarnings = 0;
  before(() => {
    cron.setLogger({
      info: () => undefined,
      warn: () => {
        cronWarnings += 1;
      },
      error: () => undefined,
      debug: () => undefined,
    });
  });

  for (const jump of [-2 * HOUR, 2 * HOUR]) {
    it(`keeps sweeping once a second, no more and no less, after the clock jumps ${jump > 0 ? 'forward' : 'back'} 2 h`, async (t) => {
      const { log } = logSink();
      const wallClock = shiftWallClock();
      const delay = monitorEventLoopDelay({ resolution: 5 });
      let sweeps = 0;
      const sweeper = startSweeper('* * * * * *', async () => {
        sweeps += 1;
      }, log);
      try {
        await sleep(1_500);
        assert.ok(sweeps >= 1, 'sweeping before the jump');
        cronWarnings = 0;
        sweeps = 0;
        delay.enable();
        wallClock.set(jump);
        await sleep(3_000);
        delay.disable();
        const blockedMs = Math.round(delay.max / 1e6);
        t.diagnostic(`sweeps in the 3 s after the jump: ${sweeps}; longest event-loop stall: ${blockedMs} ms; cron warnings: ${cronWarnings}`);
        assert.ok(sweeps >= 2, `the sweeper does not stall (${sweeps} sweeps in 3 s)`);
        assert.ok(sweeps <= 5, `the sweeper does not catch up on missed seconds (${sweeps} sweeps in 3 s)`);
        assert.ok(blockedMs < 200, `the event loop is never blocked for long (${blockedMs} ms)`);
        assert.ok(cronWarnings < 5, `no flood of warnings (${cronWarnings})`);
      } finally {
        wallClock.restore();
        await sweeper.stop();
      }
    });
  }
});
