import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KeepsakeError } from './errors.js';

/*
 * Optional programs of the system (Debian's heif-convert, ffmpeg, ffprobe), run the one way
 * keepsake runs anything: the program's own path and its arguments as an array (no shell, so
 * no file name is ever a command), the input from a descriptor keepsake opened and checked (or a
 * private file of its own), a time limit after which it is killed, a memory limit through
 * util-linux's `prlimit` where it exists, and a cap on what it may print.
 */

/** A system program could not do the job; `message` ends with what it said last. */
export class ToolError extends KeepsakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TOOL_FAILED', message, options);
  }
}

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The program's absolute path, looked up in PATH as a shell would (only absolute folders), else undefined. */
export function toolPath(name: string): string | undefined {
  const folders = (process.env['PATH'] ?? DEFAULT_PATH).split(':').filter((folder) => folder.startsWith('/'));
  return folders.map((folder) => `${folder}/${name}`).find((candidate) => existsSync(candidate));
}

export interface ToolRun {
  /** What the program reads as its standard input: a descriptor of a file keepsake opened and checked. */
  readonly stdinFd?: number;
  readonly timeoutMs: number;
  /** Address space the program may use, in bytes (enforced where prlimit exists). */
  readonly memoryBytes: number;
  /** What it may write to standard output; beyond it the program is killed. */
  readonly maxOutputBytes: number;
  /** Runs it at this niceness (through coreutils' `nice`), so long work yields the CPU to visitors. */
  readonly niceness?: number;
  /** Kills it when aborted (a shutdown must not wait for an hour-long transcode). */
  readonly signal?: AbortSignal;
}

/*
 * The address-space limit counts what a program reserves, not what it uses: glibc gives each
 * thread a heap of its own, 64 MiB reserved apiece, so a program that decodes on many threads
 * (heif-convert on an iPhone's 48 tiles) ran out of address space while using a fraction of it,
 * and hung. Two heaps shared by all threads keep the limit a limit on memory.
 */
const LIMITED_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/** The command line that runs `command` under the run's limits: prlimit for memory, nice for priority. */
function limitedCommand(command: string, args: readonly string[], run: ToolRun): { file: string; args: string[] } {
  const nice = run.niceness === undefined ? undefined : toolPath('nice');
  const prioritised = nice === undefined ? [command, ...args] : [nice, '-n', String(run.niceness), command, ...args];
  const prlimit = toolPath('prlimit');
  if (prlimit !== undefined) return { file: prlimit, args: [`--as=${Math.ceil(run.memoryBytes)}`, '--', ...prioritised] };
  return { file: prioritised[0]!, args: prioritised.slice(1) };
}

/** Runs `command` with `args` and resolves with its standard output; rejects with ToolError. */
export function runTool(command: string, args: readonly string[], run: ToolRun): Promise<Buffer> {
  const name = command.split('/').pop() ?? command;
  const limited = limitedCommand(command, args, run);
  return new Promise((resolve, reject) => {
    const child = spawn(limited.file, limited.args, { stdio: [run.stdinFd ?? 'ignore', 'pipe', 'pipe'], windowsHide: true, env: { ...process.env, ...LIMITED_ENV } });
    const output: Buffer[] = [];
    let outputBytes = 0;
    let errorText = '';
    let why: string | undefined;
    const stop = (reason: string): void => {
      why ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`took longer than ${run.timeoutMs / 1000} s`), run.timeoutMs);
    const abort = (): void => stop('stopped: keepsake is shutting down');
    if (run.signal?.aborted === true) abort();
    run.signal?.addEventListener('abort', abort, { once: true });
    child.stdout!.on('data', (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > run.maxOutputBytes) return stop(`wrote more than ${run.maxOutputBytes} bytes`);
      output.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      errorText = (errorText + chunk.toString('utf8')).slice(-2000);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new ToolError(`${name} could not be started: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', abort);
      if (why === undefined && code === 0) return resolve(Buffer.concat(output));
      const said = errorText.trim().split('\n').pop()?.trim();
      reject(new ToolError(`${name} failed: ${why ?? said ?? (signal === null ? `exit ${code}` : `killed by ${signal}`)}`));
    });
  });
}
