import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/cli.js';
import { postgresSkip, startPostgres, TEST_POSTGRES_ENV, type PostgresCluster } from './helpers/postgres.js';

/*
 * Everything that needs PostgreSQL's server, in one place so its parts can overlap: several nodes
 * on one database (test/postgres/two-nodes.test.ts, which starts its own cluster), and the same
 * black-box tests, the other store, each run again with every test server on its own PostgreSQL
 * database (test/helpers/server.ts makes one per state dir when TEST_POSTGRES_ENV is set), on one
 * private cluster. The store's own contract runs on both engines in store.test.ts.
 */

/**
 * Login, sessions, their renewal, token links and revocation, whole; of the guard's tests, share
 * links and the media budgets, whose state the database now holds; the catalogue over HTTP (photos
 * dropped in appear, with placeholders and added times, originals served through the token), its
 * rows written to PostgreSQL by the node, which leads. The login throttle's own test
 * waits out a one-second window, too tight beside the other runs; two-nodes.test.ts counts it across
 * nodes. Enrolment cards and receipts are covered on both engines by store.test.ts. The runs go at once, the first
 * two files at a time: CI has about two cores, and these tests mostly wait for sweeps and timers.
 */
const RUNS: ReadonlyArray<{ readonly files: readonly string[]; readonly pattern?: string; readonly concurrency: number; readonly onPostgres: boolean }> = [
  { files: ['test/login.test.ts', 'test/sessions-renewal.test.ts', 'test/links.test.ts'], concurrency: 2, onPostgres: true },
  { files: ['test/guard-http.test.ts'], pattern: 'share links|media budgets', concurrency: 1, onPostgres: true },
  { files: ['test/placeholders.test.ts', 'test/media.test.ts'], concurrency: 1, onPostgres: true },
  { files: ['test/postgres/two-nodes.test.ts'], concurrency: 1, onPostgres: false },
];

function runSuites(adminUrl: string, run: (typeof RUNS)[number]): Promise<{ code: number | null; output: string }> {
  // A test runner started from inside a test sees NODE_TEST_CONTEXT and would run nothing.
  const { NODE_TEST_CONTEXT: _inside, ...env } = process.env;
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${run.concurrency}`, '--test-reporter=spec', ...(run.pattern === undefined ? [] : [`--test-name-pattern=${run.pattern}`]), ...run.files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: run.onPostgres ? { ...env, [TEST_POSTGRES_ENV]: adminUrl } : env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('on PostgreSQL', { skip: postgresSkip(), timeout: 600_000 }, () => {
  let cluster: PostgresCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(async () => {
    await cluster?.stop();
  });

  it(`several nodes, and the suites with PostgreSQL as the store: ${RUNS.map((run) => run.files.map((file) => file.replace(/^test\//, '')).join(', ') + (run.pattern === undefined ? '' : ` (${run.pattern})`)).join('; ')}`, async () => {
    const results = await Promise.all(RUNS.map((run) => runSuites(cluster.adminUrl, run)));
    for (const { code, output } of results) {
      const failures = output.split('\n').filter((line) => /^\s*✖/.test(line));
      assert.equal(code, 0, `failed against PostgreSQL:\n${failures.join('\n')}\n\n${output.slice(-6000)}`);
      assert.match(output, /ℹ pass [1-9]/, 'the suites ran tests');
    }
  });
});
