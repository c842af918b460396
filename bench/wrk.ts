/**
 * Debian's wrk, the load generator nginx's own benchmarks are quoted with: it reads bodies at
 * nginx's speed, which a client in Node cannot (it measures itself as much as the server). The
 * bench installs it when missing (as root, from Debian's packages) and says so otherwise.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, runCommand } from './common.js';

export const WRK = '/usr/bin/wrk';
export const WRK_SCRIPTS = path.join(BENCH_DIR, 'wrk');

export async function ensureWrk(): Promise<void> {
  if (existsSync(WRK)) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) throw new Error(`${WRK} is missing: install Debian's wrk (apt-get install wrk)`);
  process.stderr.write('installing Debian\'s wrk for the benchmark…\n');
  const installed = await runCommand('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wrk'], { timeoutMs: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (installed.code !== 0 || !existsSync(WRK)) throw new Error(`could not install wrk: ${installed.stderr.slice(-500)}`);
}

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

function milliseconds(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 'ms' ? value : match[2] === 's' ? value * 1000 : value * 60_000;
}

/** wrk's own summary, read from its `--latency` text. */
export function parseWrk(output: string): WrkResult {
  const latency = (percent: string) => milliseconds(new RegExp(`^\\s+${percent}%\\s+(\\S+)`, 'm').exec(output)?.[1] ?? '');
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN),
    requests: Number(/(\d+) requests in/.exec(output)?.[1] ?? Number.NaN),
    p50: latency('50'),
    p99: latency('99'),
    max: milliseconds(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(output)?.[1] ?? ''),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: errors === null ? 0 : errors.slice(1).reduce((sum, count) => sum + Number(count), 0),
  };
}

export interface WrkRun {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  readonly threads?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A Lua script in bench/wrk/, e.g. one that sends a POST per request. */
  readonly script?: string;
  readonly scriptArgs?: readonly string[];
}

/** One wrk run, bounded in time; resolves with its summary. */
export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    '-t', String(run.threads ?? 1), '-c', String(run.connections), '-d', `${run.seconds}s`, '--latency', '--timeout', '60s',
    ...Object.entries(run.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    ...(run.script === undefined ? [] : ['-s', path.join(WRK_SCRIPTS, run.script)]),
    run.url,
    ...(run.scriptArgs === undefined ? [] : ['--', ...run.scriptArgs]),
  ];
  const result = await runCommand(WRK, args, { timeoutMs: (run.seconds + 90) * 1000 });
  if (result.code !== 0) throw new Error(`wrk failed (${result.code}): ${result.stderr}${result.stdout}`);
  return parseWrk(result.stdout);
}
