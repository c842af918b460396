import { randomBytes } from 'node:crypto';
import { chmodSync, constants, copyFileSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads a named secret from `secrets/<name>`, making it at first use. The folder is 0700 and the
 * file 0600 after every call, not only when first made (a copy or a restore can widen them).
 * Written whole to a temporary name first, so a crash never leaves half a key, then linked into
 * place, which fails when the name exists: of processes starting together on a fresh state folder
 * (the server and a keepsake command), the first one's secret is the one every process keeps.
 */
export function loadOrCreateSecret(secretsDir: string, name: string, bytes = 32): string {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  if ((statSync(secretsDir).mode & 0o077) !== 0) chmodSync(secretsDir, 0o700);
  const file = path.join(secretsDir, name);
  const existing = readSecret(file);
  if (existing !== undefined && existing.length > 0) return existing;
  const value = randomBytes(bytes).toString('base64url');
  const temporary = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(temporary, `${value}\n`, { mode: 0o600 });
    // An empty file (emptied by hand or by a restore) holds no secret anyone signs with: replaced.
    if (existing === '') renameSync(temporary, file);
    else linkExclusive(temporary, file);
    return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process made it first: its secret is the one on disk.
    return loadOrCreateSecret(secretsDir, name, bytes);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Puts `from` at `to` unless `to` exists (EEXIST); a file system without hard links gets an exclusive copy. */
function linkExclusive(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  }
}

/** The secret in `file`, undefined when there is none; narrows a widened mode on the way. */
function readSecret(file: string): string | undefined {
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return undefined;
  }
}
