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
}

/** Runs `command` with `args` and resolves with its standard output; rejects with ToolError. */
export function runTool(command: string, args: readonly string[], run: ToolRun): Promise<Buffer> {
  const name = command.split('/').pop() ?? command;
  const prlimit = toolPath('prlimit');
  const limited = prlimit !== undefined ? { file: prlimit, args: [`--as=${Math.ceil(run.memoryBytes)}`, '--', command, ...args] } : { file: command, args: [...args] };
  return new Promise((resolve, reject) => {
    const child = spawn(limited.file, limited.args, { stdio: [run.stdinFd ?? 'ignore', 'pipe', 'pipe'], windowsHide: true });
    const output: Buffer[] = [];
    let outputBytes = 0;
    let errorText = '';
    let why: string | undefined;
    const stop = (reason: string): void => {
      why ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`took longer than ${run.timeoutMs / 1000} s`), run.timeoutMs);
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
      if (why === undefined && code === 0) return resolve(Buffer.concat(output));
      const said = errorText.trim().split('\n').pop()?.trim();
      reject(new ToolError(`${name} failed: ${why ?? said ?? (signal === null ? `exit ${code}` : `killed by ${signal}`)}`));
    });
  });
}
