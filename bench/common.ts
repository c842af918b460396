/**
 * What every bench shares: the table every script prints, the JSON it writes, percentiles,
 * temp folders, the corpus listing, and child processes that are bounded in time and are
 * only ever ended by their own PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = path.dirname(BENCH_DIR);
export const CORPUS_DIR = path.join(BENCH_DIR, 'corpus');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
/** The one album the corpus is: the corpus folder doubles as a media root. */
export const CORPUS_ALBUM = 'album';

/** One line of a bench's table: our figure beside the reference, measured in the same run. */
export interface Row {
  readonly measure: string;
  readonly ours: number | undefined;
  readonly reference: number | undefined;
  readonly referenceName: string;
  readonly unit: string;
  /** What the ratio has to be for the goal, e.g. '≥ 1.5' or '≤ 3'; '' for no goal. */
  readonly goal?: string;
}

/** ours / reference; undefined when either is missing. */
export function ratio(ours: number | undefined, reference: number | undefined): number | undefined {
  if (ours === undefined || reference === undefined || reference === 0) return undefined;
  return ours / reference;
}

function figure(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toFixed(digits);
}

/** True, false, or undefined when the row has no goal or no ratio. */
export function goalMet(row: Row): boolean | undefined {
  const value = ratio(row.ours, row.reference);
  const match = /^([≥≤])\s*([\d.]+)$/.exec(row.goal ?? '');
  if (value === undefined || match === null) return undefined;
  const limit = Number(match[2]);
  return match[1] === '≥' ? value >= limit : value <= limit;
}

/** The table every bench prints: a Markdown table, so BENCHMARKS.md can take it as it is. */
export function formatTable(title: string, rows: readonly Row[]): string {
  const header = ['measure', 'keepsake', 'reference', 'ratio', 'goal', ''];
  const lines = rows.map((row) => {
    const met = goalMet(row);
    return [
      row.measure,
      `${figure(row.ours)} ${row.unit}`,
      `${figure(row.reference)} ${row.unit} (${row.referenceName})`,
      `${figure(ratio(row.ours, row.reference))}×`,
      row.goal ?? '',
      met === undefined ? '' : met ? 'met' : 'MISSED',
    ];
  });
  const table = [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`);
  return [`### ${title}`, '', ...table, ''].join('\n');
}

export function printTable(title: string, rows: readonly Row[]): void {
  process.stdout.write(`\n${formatTable(title, rows)}\n`);
}

export interface Results {
  readonly name: string;
  readonly title: string;
  readonly at: string;
  readonly rows: readonly Row[];
}

/** Prints the table and writes `bench/results/<name>.json` with the rows, the details and the machine. */
export async function report(name: string, title: string, rows: readonly Row[], details: unknown): Promise<string> {
  printTable(title, rows);
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  const body = { name, title, at: new Date().toISOString(), machine: machineInfo(), rows: rows.map((row) => ({ ...row, ratio: ratio(row.ours, row.reference), met: goalMet(row) })), details };
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
  process.stdout.write(`results: ${path.relative(REPO_DIR, file)}\n`);
  return file;
}

export function machineInfo() {
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
  };
}

/** The p-th percentile (0–100) by nearest rank; undefined for no samples. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function median(samples: readonly number[]): number | undefined {
  return percentile(samples, 50);
}

/** A fresh temp folder and the function that removes it. */
export async function tempFolder(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `keepsake-bench-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The corpus photos, by name; fails with how to make them when there are none. */
export async function corpusFiles(): Promise<string[]> {
  const album = path.join(CORPUS_DIR, CORPUS_ALBUM);
  const names = await readdir(album).catch(() => [] as string[]);
  const files = names.filter((name) => /\.(jpe?g|png)$/i.test(name)).sort().map((name) => path.join(album, name));
  if (files.length === 0) throw new Error(`no corpus in ${album}: run \`npm run bench:corpus\` first`);
  return files;
}

/** Runs `work` over `items` with at most `limit` at once, in order of the items. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) await work(items[index] as T, index);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs a command and collects its output; past `timeoutMs` it is sent SIGTERM (then SIGKILL)
 * by its own PID. `inherit` streams stdout through as well, for the scripts run-all starts.
 */
export function runCommand(command: string, args: readonly string[], options: { timeoutMs: number; inherit?: boolean; cwd?: string; env?: NodeJS.ProcessEnv; user?: { uid: number; gid: number } }): Promise<ChildResult> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: options.cwd ?? REPO_DIR, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], ...options.user });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    if (options.inherit === true) process.stdout.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err.push(chunk);
    if (options.inherit === true) process.stderr.write(chunk);
  });
  const timer = setTimeout(() => stopChild(child), options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: performance.now() - started });
    });
  });
}

/** SIGTERM now, SIGKILL a few seconds later if it is still there: only this child, by its PID. */
export function stopChild(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 3000).unref();
}

/** Runs a bench script (or a mode of one) in its own Node process; its last stdout line is JSON. */
export async function runNodeJson<T>(script: string, args: readonly string[], timeoutMs: number): Promise<T> {
  const result = await runCommand(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, script), ...args], { timeoutMs });
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${result.code}: ${result.stderr.slice(-2000)}`);
  return JSON.parse(last) as T;
}

/** `--name value` from argv, parsed by `parse`; `fallback` when absent. */
export function option<T>(name: string, fallback: T, parse: (text: string) => T): T {
  const index = process.argv.indexOf(`--${name}`);
  const text = index === -1 ? undefined : process.argv[index + 1];
  return text === undefined ? fallback : parse(text);
}

export function positiveNumber(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!(value > 0)) throw new TypeError(`Expected a positive number for --${name} but received ${JSON.stringify(text)}`);
    return value;
  };
}

export function megabytes(bytes: number): number {
  return bytes / 2 ** 20;
}
