import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { REPO_ROOT } from './helpers/cli.js';

/**
 * Case 9 of issue 8, the short version: the soak runner for twenty seconds (longer runs:
 * `npm run soak -- --minutes N`). The runner does the checking; this test shows its report and
 * fails when it does.
 */

const MINUTES = 1 / 3;

it(`soak: families browse, log out and expire for ${MINUTES >= 1 ? `${MINUTES} min` : `${Math.round(MINUTES * 60)} s`}: no 5xx, no leaked link or file, flat memory`, { timeout: (MINUTES * 60 + 120) * 1000 }, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/soak/run.ts', '--minutes', String(MINUTES)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  const report = output.split('\n').filter((line) => line !== '' && !line.startsWith('SOAK_RESULT') && !line.startsWith('{'));
  for (const line of report.slice(0, 40)) t.diagnostic(line);
  const result = /^SOAK_RESULT (.*)$/m.exec(output)?.[1];
  assert.ok(result !== undefined, `the soak printed no result:\n${output.slice(-3000)}`);
  assert.deepEqual((JSON.parse(result) as { failed: string[] }).failed, []);
  assert.equal(code, 0, output.slice(-3000));
});
