import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/cli.js';
import { postgresSkip, startPostgres, TEST_POSTGRES_ENV, type PostgresCluster } from './helpers/postgres.js';

/*
 * The same black-box tests, the other store: login, sessions and their renewal, token links and
 * revocation, share links, devices and receipts, each run again with every test server on its own
 * PostgreSQL database (test/helpers/server.ts makes one per state dir when TEST_POSTGRES_ENV is
 * set), on one private cluster. The store's own contract runs on both engines in store.test.ts.
 */

const SUITES = [
  'test/login.test.ts',
  'test/sessions-renewal.test.ts',
  'test/links.test.ts',
  'test/guard-http.test.ts',
  'test/devices.test.ts',
  'test/receipts.test.ts',
];

function runSuites(adminUrl: string): Promise<{ code: number | null; output: string }> {
  // A test runner started from inside a test sees NODE_TEST_CONTEXT and would run nothing.
  const { NODE_TEST_CONTEXT: _inside, ...env } = process.env;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...SUITES], {
      cwd: REPO_ROOT,
      env: { ...env, [TEST_POSTGRES_ENV]: adminUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('the black-box suites against PostgreSQL', { skip: postgresSkip(), timeout: 600_000 }, () => {
  let cluster: PostgresCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(async () => {
    await cluster?.stop();
  });

  it(`pass with PostgreSQL as the store: ${SUITES.map((file) => file.replace(/^test\//, '')).join(', ')}`, async () => {
    const { code, output } = await runSuites(cluster.adminUrl);
    const failures = output.split('\n').filter((line) => /^\s*✖/.test(line));
    assert.equal(code, 0, `failed against PostgreSQL:\n${failures.join('\n')}\n\n${output.slice(-6000)}`);
    assert.match(output, /ℹ pass [1-9]/, 'the suites ran tests');
  });
});
