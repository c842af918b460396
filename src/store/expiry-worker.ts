import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './database.js';
import { DELETE_EXPIRED_SQL } from './sessions-table.js';

type ExpiredRow = { sid: string; token: string };

export interface ExpiryDeleter {
  /** Deletes up to `limit` active sessions expired at `now`, in one statement; returns what it deleted. */
  deleteExpired(now: number, limit: number): Promise<ExpiredRow[]>;
  /** Ends the worker (after its last statement) and its connection. */
  close(): Promise<void>;
}

/**
 * The worker's code (CommonJS, so it runs the same from the build and under a TypeScript loader):
 * its own connection to the database file, one batch per message. It does not checkpoint after
 * every commit (a sweep's batches would each pay for it); it checkpoints, passively, when a sweep
 * reaches its end and when it is closed.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
const statement = db.prepare(workerData.sql);
function checkpoint() {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}
parentPort.on('message', (request) => {
  if (request === 'close') {
    checkpoint();
    db.close();
    parentPort.close();
    return;
  }
  let rows;
  try {
    rows = statement.all(request.now, request.limit);
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
    return;
  }
  parentPort.postMessage({ rows });
  if (rows.length < request.limit) checkpoint();
});
`;

// A sweep asks for its next batch within milliseconds; a worker idle this long is ended.
const WORKER_IDLE_MS = 10_000;
const CLOSE_GRACE_MS = 5_000;

/**
 * The sweep's DELETEs in a worker thread with its own connection. Deleting 100,000 expired rows
 * dirties pages all over two random-keyed indexes (sid, token): a second or more of CPU, which on
 * the main thread would hold up requests in every batch. In the worker it runs beside them, and
 * the main thread only unlinks. An in-memory database, or a worker that cannot start or dies, falls
 * back to the same statement on the caller's connection (a batch the worker deleted but never
 * answered leaves orphan links, which the sweep's orphan pass removes).
 */
export function createExpiryDeleter(db: Db, inThread: (now: number, limit: number) => ExpiredRow[]): ExpiryDeleter {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  let worker: Worker | undefined;
  let broken = db.memory;
  let queue: Promise<unknown> = Promise.resolve();
  let idleTimer: NodeJS.Timeout | undefined;
  let pending = 0;

  function stop(current: Worker): Promise<void> {
    if (worker === current) worker = undefined;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    const grace = setTimeout(() => void current.terminate(), CLOSE_GRACE_MS);
    current.postMessage('close');
    return exited.finally(() => clearTimeout(grace));
  }

  function workerFor(): Worker {
    if (worker !== undefined) return worker;
    const started = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: db.name, sql: DELETE_EXPIRED_SQL } });
    started.unref();
    started.once('exit', () => {
      if (worker === started) worker = undefined;
    });
    worker = started;
    return started;
  }

  function inWorker(now: number, limit: number): Promise<ExpiredRow[]> {
    const current = workerFor();
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        current.off('message', onMessage);
        current.off('error', onFailure);
        current.off('exit', onFailure);
      };
      const onMessage = (answer: { rows?: ExpiredRow[]; error?: string }): void => {
        finish();
        if (answer.rows !== undefined) resolve(answer.rows);
        else reject(new Error(`the expiry worker could not delete expired sessions: ${answer.error ?? 'no answer'}`));
      };
      const onFailure = (): void => {
        finish();
        broken = true;
        void current.terminate();
        if (worker === current) worker = undefined;
        try {
          resolve(inThread(now, limit));
        } catch (error) {
          reject(error);
        }
      };
      current.on('message', onMessage);
      current.once('error', onFailure);
      current.once('exit', onFailure);
      current.postMessage({ now, limit });
    });
  }

  return {
    deleteExpired(now, limit) {
      clearTimeout(idleTimer);
      pending += 1;
      const answer = queue.then(() => (broken ? inThread(now, limit) : inWorker(now, limit)));
      queue = answer.catch(() => undefined);
      answer
        .finally(() => {
          pending -= 1;
          const current = worker;
          if (pending === 0 && current !== undefined) idleTimer = setTimeout(() => void stop(current), WORKER_IDLE_MS).unref();
        })
        .catch(() => undefined);
      return answer;
    },
    async close() {
      clearTimeout(idleTimer);
      broken = true;
      await queue;
      clearTimeout(idleTimer); // the last batch's end may have set it again
      if (worker !== undefined) await stop(worker);
    },
  };
}
