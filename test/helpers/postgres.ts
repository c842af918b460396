import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { tempDir } from './fixtures.js';
import { freePort } from './web-servers.js';

/*
 * A private PostgreSQL cluster for tests: `initdb` in a temp dir, `postgres` in the foreground as
 * our child, on a loopback port with its socket in the temp dir, stopped by its PID. As root, both
 * run as the `postgres` user (or nobody): PostgreSQL refuses to run as root.
 */

/** Debian puts the server's programs under /usr/lib/postgresql/<version>/bin, off the PATH. */
function serverBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((name) => existsSync(path.join(base, name, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(base, versions[0], 'bin');
}

const BIN = serverBin();
export const POSTGRES_MISSING = BIN === undefined ? 'PostgreSQL is not installed (Debian: apt-get install postgresql)' : undefined;

/** Skip with a reason locally; under CI a missing PostgreSQL fails the test. */
export function postgresSkip(): string | false {
  if (POSTGRES_MISSING === undefined) return false;
  if (process.env['CI']) throw new Error(POSTGRES_MISSING);
  return POSTGRES_MISSING;
}

function runAs(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const found = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const group = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (found.status === 0 && group.status === 0) return { uid: Number(found.stdout.trim()), gid: Number(group.stdout.trim()) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

export interface PostgresCluster {
  /** The superuser's URL of the `postgres` database. */
  readonly adminUrl: string;
  readonly port: number;
  /** A fresh database (or the one of this name, if it exists): its URL. */
  database(name: string): Promise<string>;
  /** Stops the server (a database that is gone, for fail-closed tests); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function waitForConnections(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`postgres exited (${server.exitCode}):\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      await delay(100);
    }
  }
  throw new Error(`postgres did not accept connections within 30 s:\n${log()}`);
}

/** Starts a private cluster; `after(() => cluster.stop())` in the test. */
export async function startPostgres(): Promise<PostgresCluster> {
  if (BIN === undefined) throw new Error(POSTGRES_MISSING);
  const owner = runAs();
  const dir = await tempDir('keepsake-postgres-');
  const data = path.join(dir, 'data');
  await mkdir(data, { mode: 0o700 });
  if (owner !== undefined) {
    await chown(dir, owner.uid, owner.gid);
    await chown(data, owner.uid, owner.gid);
  }
  const passwordFile = path.join(dir, 'password');
  await writeFile(passwordFile, 'keepsake-test\n', { mode: 0o644 });
  const init = spawnSync(path.join(BIN, 'initdb'), ['-D', data, '-U', 'keepsake', '--pwfile', passwordFile, '-A', 'scram-sha-256', '-E', 'UTF8', '--no-sync'], {
    encoding: 'utf8',
    cwd: dir,
    ...(owner ?? {}),
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const adminUrl = `postgres://keepsake:keepsake-test@127.0.0.1:${port}/postgres`;
  let server: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
    const child = spawn(path.join(BIN!, 'postgres'), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(owner ?? {}) });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server = child;
    await waitForConnections(adminUrl, child, () => output.slice(-4000));
  }

  async function stop(): Promise<void> {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null) return;
    // SIGINT: "fast" shutdown, which ends every connection (keepsake's included) at once.
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;
  }

  await start();
  return {
    adminUrl,
    port,
    database: (name) => ensureDatabase(adminUrl, name),
    stop,
    start,
  };
}

/** Set by test/postgres-suites.test.ts: the superuser URL of a running private cluster. */
export const TEST_POSTGRES_ENV = 'KEEPSAKE_TEST_POSTGRES_URL';

/**
 * The database of a test server's state dir when the suites run against PostgreSQL (undefined
 * otherwise): made on first use, found again by a restart test that reuses the dir.
 */
export async function databaseFor(stateDir: string): Promise<string | undefined> {
  const adminUrl = process.env[TEST_POSTGRES_ENV];
  if (adminUrl === undefined || adminUrl === '') return undefined;
  return ensureDatabase(adminUrl, `ks_${createHash('sha256').update(stateDir).digest('hex').slice(0, 16)}`);
}

/** The URL of database `name` on the cluster, made if it is not there yet. */
async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const safe = name.replace(/[^a-z0-9_]/g, '_').slice(0, 40);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [safe]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${safe}`);
  } finally {
    await client.end();
  }
  return adminUrl.replace(/\/postgres$/, `/${safe}`);
}
