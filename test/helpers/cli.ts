import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The newest modification time of any file under `directory`. */
function newestChange(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** The built command when `npm run build` made it from the sources as they are now (npm test builds first). */
function builtMain(): string | undefined {
  const built = path.join(REPO_ROOT, 'dist', 'main.js');
  try {
    return statSync(built).mtimeMs >= newestChange(path.join(REPO_ROOT, 'src')) ? built : undefined;
  } catch {
    return undefined;
  }
}

const BUILT_MAIN = builtMain();

/**
 * Node's arguments to run `keepsake <args>`: the built dist/main.js, as `npm start` runs it, when
 * it is up to date (a second faster per process than compiling on the fly); else src/main.ts through tsx.
 */
export function keepsakeArgs(args: readonly string[]): string[] {
  return BUILT_MAIN === undefined ? ['--import', 'tsx', 'src/main.ts', ...args] : [BUILT_MAIN, ...args];
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `keepsake <args>` as a separate process, as an admin would, with the given settings. */
export function runKeepsake(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      keepsakeArgs(args),
      { cwd: REPO_ROOT, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
