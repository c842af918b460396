import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createReceiptRecorder } from '../src/receipts/recorder.js';
import type { ReceiptHit, ReceiptSession, ReceiptStore } from '../src/store/index.js';

/*
 * The recorder counts answers alike as they come and hands the store one hit for each, with its
 * count and first and last times, in the order the answers were first sent.
 */

const session = (sid: string): ReceiptSession => ({ sid, token: `token-${sid}`, label: 'family', keyId: 1, shareId: null });
const hit = (name: string, at: number, fields: Partial<ReceiptHit> = {}): ReceiptHit => ({ albumPath: 'Summer', name, original: false, address: '198.51.100.7', at, ...fields });

function capturingStore(): { store: Pick<ReceiptStore, 'record'>; batches: Parameters<ReceiptStore['record']>[0][] } {
  const batches: Parameters<ReceiptStore['record']>[0][] = [];
  return { batches, store: { record: async (batch) => void batches.push(batch) } };
}

describe('the receipt recorder', () => {
  it('hands over answers alike as one hit with how many, first seen first', async () => {
    const { store, batches } = capturingStore();
    const recorder = createReceiptRecorder({ receipts: store as ReceiptStore, log: pino({ level: 'silent' }) });
    const family = session('s1');
    recorder.record(family, hit('a.jpg', 10));
    recorder.record(family, hit('b.jpg', 11));
    recorder.record(family, hit('a.jpg', 12));
    recorder.record(family, hit('a.jpg', 9)); // answers can be noted out of order
    recorder.record(family, hit('a.jpg', 13, { original: true }));
    recorder.record(family, hit('a.jpg', 14, { address: '203.0.113.9' }));
    recorder.record(session('s2'), hit('a.jpg', 15));
    await recorder.close();
    assert.equal(batches.length, 1);
    assert.deepEqual(batches[0], [
      { session: family, hits: [
        { albumPath: 'Summer', name: 'a.jpg', original: false, address: '198.51.100.7', at: 12, firstAt: 9, repeats: 3 },
        { albumPath: 'Summer', name: 'b.jpg', original: false, address: '198.51.100.7', at: 11, firstAt: 11, repeats: 1 },
        { albumPath: 'Summer', name: 'a.jpg', original: true, address: '198.51.100.7', at: 13, firstAt: 13, repeats: 1 },
        { albumPath: 'Summer', name: 'a.jpg', original: false, address: '203.0.113.9', at: 14, firstAt: 14, repeats: 1 },
      ] },
      { session: session('s2'), hits: [{ albumPath: 'Summer', name: 'a.jpg', original: false, address: '198.51.100.7', at: 15, firstAt: 15, repeats: 1 }] },
    ]);
  });

  it('keeps names that look alike apart', async () => {
    const { store, batches } = capturingStore();
    const recorder = createReceiptRecorder({ receipts: store as ReceiptStore, log: pino({ level: 'silent' }) });
    recorder.record(session('s1'), hit('b.jpg', 1, { albumPath: 'A' }));
    recorder.record(session('s1'), hit('A\n198.51.100.7\nb.jpg', 2, { albumPath: '' }));
    await recorder.close();
    assert.equal(batches[0]?.[0]?.hits.length, 2);
  });

  it('keeps what it could not write (a locked database, a full disk) for the next try, and loses nothing', async () => {
    // A failed write once dropped its batch: the downloads of those seconds were on no receipt.
    const batches: Parameters<ReceiptStore['record']>[0][] = [];
    let failures = 1;
    const store: Pick<ReceiptStore, 'record'> = {
      record: async (batch) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('database is locked');
        }
        batches.push(batch);
      },
    };
    const recorder = createReceiptRecorder({ receipts: store as ReceiptStore, log: pino({ level: 'silent' }) });
    const family = session('s1');
    recorder.record(family, hit('a.jpg', 10, { original: true }));
    recorder.record(family, hit('b.jpg', 11));
    await recorder.flush();
    assert.equal(batches.length, 0, 'the first write failed');
    recorder.record(family, hit('a.jpg', 12, { original: true }));
    await recorder.close();
    assert.deepEqual(batches, [
      [{ session: family, hits: [
        { albumPath: 'Summer', name: 'a.jpg', original: true, address: '198.51.100.7', at: 12, firstAt: 10, repeats: 2 },
        { albumPath: 'Summer', name: 'b.jpg', original: false, address: '198.51.100.7', at: 11, firstAt: 11, repeats: 1 },
      ] }],
    ]);
  });
});
