/**
 * `npm run bench [-- --quick]`: makes the corpus, then runs every bench in its own process,
 * one after another (they would skew each other side by side), each bounded in time; then
 * prints every table of this run again, in one place. `--quick` shortens each (fewer rounds,
 * shorter loads, smaller trees) for a smoke check; its figures are not the ones to quote.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BENCH_DIR, RESULTS_DIR, formatTable, machineInfo, runCommand, type Results } from './common.js';

interface Step {
  readonly script: string;
  /** The results file it writes; none for the corpus. */
  readonly results?: string;
  readonly args: readonly string[];
  readonly quickArgs: readonly string[];
  readonly timeoutMinutes: number;
}

export const STEPS: readonly Step[] = [
  { script: 'corpus.ts', args: [], quickArgs: [], timeoutMinutes: 5 },
  { script: 'derivatives.ts', results: 'derivatives', args: [], quickArgs: ['--rounds', '1'], timeoutMinutes: 30 },
  { script: 'formats.ts', results: 'formats', args: [], quickArgs: ['--photos', '1'], timeoutMinutes: 10 },
  { script: 'heic.ts', results: 'heic', args: [], quickArgs: ['--photos', '1', '--rounds', '1'], timeoutMinutes: 10 },
  { script: 'video.ts', results: 'video', args: [], quickArgs: ['--rounds', '1'], timeoutMinutes: 10 },
  { script: 'serve.ts', results: 'serve', args: [], quickArgs: ['--duration', '2', '--rounds', '1'], timeoutMinutes: 10 },
  { script: 'nginx-ablation.ts', results: 'nginx-ablation', args: [], quickArgs: ['--duration', '1', '--rounds', '1'], timeoutMinutes: 10 },
  { script: 'sessions.ts', results: 'sessions', args: [], quickArgs: ['--sessions', '10000', '--logins', '10'], timeoutMinutes: 10 },
  { script: 'login-flood.ts', results: 'login-flood', args: [], quickArgs: ['--duration', '3', '--rounds', '1'], timeoutMinutes: 10 },
  { script: 'scan.ts', results: 'scan', args: [], quickArgs: ['--files', '5000', '--folders', '200'], timeoutMinutes: 15 },
  { script: 'first-view.ts', results: 'first-view', args: [], quickArgs: ['--photos', '30', '--rounds', '1'], timeoutMinutes: 15 },
  { script: 'big-album.ts', results: 'big-album', args: ['--rounds', '2'], quickArgs: ['--photos', '2000', '--rounds', '1'], timeoutMinutes: 15 },
  { script: 'zip.ts', results: 'zip', args: [], quickArgs: ['--gigabytes', '0.4', '--rounds', '1'], timeoutMinutes: 15 },
  { script: 'cluster.ts', results: 'cluster', args: [], quickArgs: ['--logins', '20', '--seconds', '2'], timeoutMinutes: 10 },
];

async function readResults(name: string): Promise<Results | undefined> {
  try {
    return JSON.parse(await readFile(path.join(RESULTS_DIR, `${name}.json`), 'utf8')) as Results;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const startedAt = new Date().toISOString();
  const failed: string[] = [];
  for (const step of STEPS) {
    process.stdout.write(`\n## ${step.script}\n\n`);
    const args = ['--import', 'tsx', path.join(BENCH_DIR, step.script), ...(quick ? step.quickArgs : step.args)];
    const result = await runCommand(process.execPath, args, { timeoutMs: step.timeoutMinutes * 60_000, inherit: true });
    if (result.code !== 0) failed.push(`${step.script} (exit ${result.code ?? 'killed at its time limit'})`);
  }
  process.stdout.write(`\n# All results (${JSON.stringify(machineInfo())})\n\n`);
  for (const step of STEPS) {
    if (step.results === undefined) continue;
    const results = await readResults(step.results);
    // Only this run's figures: an older file would pass a stale table off as new.
    if (results === undefined || results.at < startedAt) continue;
    process.stdout.write(`${formatTable(results.title, results.rows)}\n`);
  }
  if (failed.length > 0) {
    process.stderr.write(`failed: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}
