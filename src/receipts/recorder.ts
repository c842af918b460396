import type { Logger } from '../log.js';
import type { ReceiptHit, ReceiptSession, ReceiptStore } from '../store/index.js';

/*
 * Collects what each session is sent and writes it to the receipts in one transaction a second,
 * so a media answer costs a map insert, not a database write. Bounded: beyond MAX_PENDING hits
 * waiting, the oldest session's are written at once.
 */

const FLUSH_EVERY_MS = 1000;
const MAX_PENDING = 50_000;

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
  let pending = new Map<string, { session: ReceiptSession; hits: ReceiptHit[] }>();
  let count = 0;
  let writing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (count === 0) return writing;
    const batch = [...pending.values()];
    pending = new Map();
    count = 0;
    writing = writing
      .then(() => receipts.record(batch))
      .catch((error: unknown) => log.error({ err: error, sessions: batch.length }, 'exposure receipts not written'));
    return writing;
  }

  const timer = setInterval(() => void flush(), FLUSH_EVERY_MS);
  timer.unref();

  return {
    record(session, hit) {
      const entry = pending.get(session.sid) ?? { session, hits: [] };
      entry.hits.push(hit);
      pending.set(session.sid, entry);
      count += 1;
      if (count >= MAX_PENDING) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
