import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/** The database and the files SQLite keeps beside it: password hashes and live session ids live there. */
export function databaseFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`];
}

/**
 * Only keepsake's own user may read the database: it is made 0600 before SQLite first opens it
 * (SQLite gives its -wal and -shm files the database's mode), and set so again at every open,
 * whatever the umask or an earlier version left.
 */
function makePrivate(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const each of databaseFiles(file)) {
    try {
      chmodSync(each, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Opens (creating if needed) the SQLite database in WAL mode, private to keepsake, and brings its schema up to date. */
export function openDatabase(file: string): Db {
  mkdirSync(path.dirname(file), { recursive: true });
  makePrivate(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; a power cut may lose the last commit only.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

/**
 * Runs the steps the database lacks. Two processes may open a new database at once (a CLI command
 * beside a server making its state dir): each step reads the version under SQLite's write lock
 * (BEGIN IMMEDIATE), so a step the other process ran meanwhile is never run again.
 */
function migrate(db: Db): void {
  const nextStep = db.transaction((): boolean => {
    const version = db.pragma('user_version', { simple: true }) as number;
    const step = MIGRATIONS[version];
    if (step === undefined) return false;
    db.exec(step);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  let ran = true;
  while (ran) ran = nextStep.immediate();
}

/** True when the database answers a trivial query (for /healthz). */
export function isDatabaseUsable(db: Db): boolean {
  try {
    return db.prepare('SELECT 1 AS ok').get() !== undefined;
  } catch {
    return false;
  }
}
