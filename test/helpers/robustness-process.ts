import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { keepsakeArgs, REPO_ROOT } from './cli.js';

/** A port nobody listens on right now (for tests that must know it before the server starts). */
export { freePort } from '../../bench/nginx.js';

/**
 * `keepsake serve` as its own process, as an admin runs it: the robustness tests kill it
 * (SIGKILL is a power cut as far as the process can tell), read its /proc entries and restart
 * it on the same state dir.
 */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  /** The generated password of the first key, when this start made it. */
  readonly firstPassword: string | undefined;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** SIGTERM (a clean shutdown) and wait for the exit. */
  stop(): Promise<number | string>;
  /** SIGKILL (a power cut) and wait for the exit. */
  kill(): Promise<number | string>;
}

export interface ServeOptions {
  /** Run the process under `ulimit -n <n>` (open-file limit), as a small box might. */
  readonly maxOpenFiles?: number;
  /** Resolve as soon as this port accepts a connection instead of waiting for the URL line. */
  readonly port?: number;
  /** Called the moment the server first accepts a connection (needs `port`). */
  readonly onListening?: () => Promise<void>;
  readonly startTimeoutMs?: number;
}

const URL_LINE = /running at (http:\/\/127\.0\.0\.1:\d+\/)/;
const FIRST_PASSWORD = /shown only this once\):\s+(\S+)/;

function exitOf(child: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else if (child.signalCode !== null) resolve(child.signalCode);
    else child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
}

async function accepts(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts `keepsake serve` with exactly `env` (plus PATH) and waits until it serves. */
export async function serveProcess(env: Record<string, string>, options: ServeOptions = {}): Promise<ServerProcess> {
  const nodeArgs = keepsakeArgs(['serve']);
  const baseEnv = { PATH: process.env['PATH'] ?? '', KEEPSAKE_HOST: '127.0.0.1', KEEPSAKE_PORT: String(options.port ?? 0), KEEPSAKE_LOG_LEVEL: 'warn' };
  const child =
    options.maxOpenFiles === undefined
      ? spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${options.maxOpenFiles} && exec "$0" "$@"`, process.execPath, ...nodeArgs], {
          cwd: REPO_ROOT,
          env: { ...baseEnv, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = exitOf(child);
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let url: string | undefined;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    if (options.port !== undefined && url === undefined && (await accepts(options.port))) {
      await options.onListening?.();
      url = `http://127.0.0.1:${options.port}/`;
    }
    const printed = URL_LINE.exec(output)?.[1];
    if (printed !== undefined) {
      url = printed;
      // The first-key banner is a second write right after the URL line.
      await sleep(150);
      break;
    }
    await sleep(options.port === undefined ? 25 : 2);
  }
  if (url === undefined) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`keepsake serve did not start:\n${output}`);
  }
  const pid = child.pid!;
  return {
    child,
    pid,
    url,
    firstPassword: FIRST_PASSWORD.exec(output)?.[1],
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Open file descriptors of a process (sockets, files, the database, inotify). */
export async function openFileCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

export interface MemoryFigures {
  /** Resident set size now, in MiB. */
  readonly rssMiB: number;
  /** The highest resident set size the process ever had, in MiB. */
  readonly peakRssMiB: number;
}

/** RSS and peak RSS (VmHWM) of a process, from /proc. */
export async function memoryOf(pid: number): Promise<MemoryFigures> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: Math.round(kib('VmRSS') / 1024), peakRssMiB: Math.round(kib('VmHWM') / 1024) };
}

/** Polls `condition` every `everyMs` until it holds; false at the deadline. */
export async function eventually(condition: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
