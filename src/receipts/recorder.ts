import type { Logger } from '../log.js';
import type { ReceiptHit, ReceiptSession, ReceiptStore } from '../store/index.js';

/*
 * Collects what each session is sent and writes it to the receipts in one transaction a second,
 * so a media answer costs a map update, not a database write. A grid asks for the same photo
 * many times over, so answers alike (same file, kind and address) are counted in one entry as
 * they come, first seen first: a second's worth of answers is a few entries, not one object each
 * kept alive until the flush. Bounded: beyond MAX_PENDING entries waiting, they are written at once.
 * A write that fails (a locked database, a full disk) leaves its entries waiting for the next.
 */

const FLUSH_EVERY_MS = 1000;
const MAX_PENDING = 50_000;

type PendingHit = { -readonly [K in keyof ReceiptHit]-?: ReceiptHit[K] };

export interface ReceiptRecorder {
  /** One media answer sent to `session`. */
  record(session: ReceiptSession, hit: ReceiptHit): void;
  /** Writes what is waiting now. */
  flush(): Promise<void>;
  /** Writes what is waiting and stops. */
  close(): Promise<void>;
}

export function createReceiptRecorder(options: { readonly receipts: ReceiptStore; readonly log: Logger }): ReceiptRecorder {
  const { receipts, log } = options;
  let pending = new Map<string, { session: ReceiptSession; hits: Map<string, PendingHit> }>();
  let count = 0;
  let writing: Promise<void> = Promise.resolve();
  let writes = 0;

  /** Counts one hit in (merged with one alike); false when MAX_PENDING are waiting and `bounded` says to keep no more. */
  function keep(session: ReceiptSession, hit: ReceiptHit, bounded: boolean): boolean {
    let entry = pending.get(session.sid);
    // An address holds no newline and a path no NUL, so the key reads back one way only.
    const key = `${hit.original ? 1 : 0}\n${hit.address}\n${hit.albumPath}\0${hit.name}`;
    const alike = entry?.hits.get(key);
    if (alike === undefined) {
      if (bounded && count >= MAX_PENDING) return false;
      if (entry === undefined) pending.set(session.sid, (entry = { session, hits: new Map() }));
      entry.hits.set(key, { albumPath: hit.albumPath, name: hit.name, original: hit.original, address: hit.address, at: hit.at, firstAt: hit.firstAt ?? hit.at, repeats: hit.repeats ?? 1 });
      count += 1;
      return true;
    }
    alike.repeats += hit.repeats ?? 1;
    alike.at = Math.max(alike.at, hit.at);
    alike.firstAt = Math.min(alike.firstAt, hit.firstAt ?? hit.at);
    return true;
  }

  function flush(): Promise<void> {
    if (count === 0) return writing;
    const batch = [...pending.values()].map(({ session, hits }) => ({ session, hits: [...hits.values()] }));
    pending = new Map();
    count = 0;
    writes += 1;
    writing = writing
      .then(() => receipts.record(batch))
      .catch((error: unknown) => {
        // A locked database or a full disk: the batch waits for the next flush, merged with what came
        // meanwhile (bounded, so a database gone for good cannot fill memory).
        let lost = 0;
        for (const { session, hits } of batch) for (const hit of hits) if (!keep(session, hit, true)) lost += 1;
        log.error({ err: error, sessions: batch.length, lost }, lost === 0 ? 'exposure receipts not written yet; trying again in a second' : 'exposure receipts not written; some were lost');
      })
      .finally(() => {
        writes -= 1;
      });
    return writing;
  }

  const timer = setInterval(() => void flush(), FLUSH_EVERY_MS);
  timer.unref();

  return {
    record(session, hit) {
      keep(session, hit, false);
      // Early when many wait, but not again while a write is under way (it may be waiting for a lock).
      if (count >= MAX_PENDING && writes === 0) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
