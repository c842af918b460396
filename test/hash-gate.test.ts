import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createHashGate, LoginBusyError } from '../src/auth/index.js';

/*
 * The gate in front of password hashing (hash-gate.ts): how many hashes run, how many wait, and
 * how much of a core a flood of them may take. Work here is a timer standing in for scrypt; the
 * assertions are lower bounds on when work starts, which timers guarantee on a busy machine too.
 */

/** Work that takes `ms` and records when it started and ended (performance.now()). */
function timedWork(ms: number, log: Array<{ start: number; end: number }>): () => Promise<void> {
  return async () => {
    const start = performance.now();
    await sleep(ms);
    log.push({ start, end: performance.now() });
  };
}

describe('hash gate', () => {
  it('runs a login alone at once, with no rest before it', async () => {
    const gate = createHashGate({ concurrency: 1, queue: 4, share: 0.25 });
    const log: Array<{ start: number; end: number }> = [];
    const asked = performance.now();
    await gate.run(timedWork(5, log));
    assert.ok(log[0]!.start - asked < 5, `started ${(log[0]!.start - asked).toFixed(1)} ms after it was asked`);
  });

  it('under a queue, rests each slot so hashing takes at most its share of the time', async () => {
    const gate = createHashGate({ concurrency: 1, queue: 4, share: 0.5 });
    const log: Array<{ start: number; end: number }> = [];
    await Promise.all([0, 1, 2].map(() => gate.run(timedWork(30, log))));
    assert.equal(log.length, 3);
    for (let index = 1; index < log.length; index += 1) {
      const previous = log[index - 1]!;
      const rest = log[index]!.start - previous.end;
      // share 0.5: the slot rests as long as the last hash took (timers may fire up to 1 ms early in Node's rounding).
      assert.ok(rest >= previous.end - previous.start - 2, `hash ${index} started ${rest.toFixed(1)} ms after the one before ended, which took ${(previous.end - previous.start).toFixed(1)} ms`);
    }
  });

  it('with share 1 starts the next waiting hash as soon as one ends', async () => {
    const gate = createHashGate({ concurrency: 1, queue: 4, share: 1 });
    const log: Array<{ start: number; end: number }> = [];
    await Promise.all([0, 1].map(() => gate.run(timedWork(30, log))));
    assert.ok(log[1]!.start - log[0]!.end < 15, `the second started ${(log[1]!.start - log[0]!.end).toFixed(1)} ms after the first ended`);
  });

  it('refuses at once with LoginBusyError and Retry-After seconds when the queue is full, and runs the rest', async () => {
    const gate = createHashGate({ concurrency: 1, queue: 1, share: 0.5, retryAfterSeconds: 3 });
    const log: Array<{ start: number; end: number }> = [];
    const running = gate.run(timedWork(20, log));
    const queued = gate.run(timedWork(20, log));
    await assert.rejects(gate.run(timedWork(20, log)), (error: unknown) => error instanceof LoginBusyError && error.retryAfterSeconds === 3);
    assert.deepEqual(gate.stats(), { running: 1, waiting: 1 });
    await Promise.all([running, queued]);
    assert.equal(log.length, 2, 'the two admitted hashes both ran');
  });

  it('frees the slot when the work fails', async () => {
    const gate = createHashGate({ concurrency: 1, queue: 1, share: 1 });
    await assert.rejects(gate.run(() => Promise.reject(new Error('scrypt failed'))), /scrypt failed/);
    assert.equal(await gate.run(async () => 'next'), 'next');
    assert.deepEqual(gate.stats(), { running: 0, waiting: 0 });
  });

  it('refuses a share outside (0, 1]', () => {
    assert.throws(() => createHashGate({ concurrency: 1, queue: 1, share: 0 }), RangeError);
    assert.throws(() => createHashGate({ concurrency: 1, queue: 1, share: 1.5 }), RangeError);
  });
});
