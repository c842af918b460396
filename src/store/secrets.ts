import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads a named secret from `secrets/<name>`, making it at first use. The folder is 0700 and the
 * file 0600 after every call, not only when first made (a copy or a restore can widen them).
 * Written to a temp name and renamed, so a crash never leaves half a key.
 */
export function loadOrCreateSecret(secretsDir: string, name: string, bytes = 32): string {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  if ((statSync(secretsDir).mode & 0o077) !== 0) chmodSync(secretsDir, 0o700);
  const file = path.join(secretsDir, name);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    if (existing.length > 0) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = randomBytes(bytes).toString('base64url');
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, `${value}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return value;
}
