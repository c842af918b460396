import { lstat, readdir, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isToken } from '../media-contract.js';

/**
 * Creates `webRoot/<token>` as a relative symlink to `targetDir`. symlink() is atomic: the
 * link either exists whole or not at all. Fails with EEXIST rather than replacing anything.
 */
export async function createTokenLink(webRoot: string, token: string, targetDir: string): Promise<void> {
  if (!isToken(token)) throw new TypeError(`token: expected a token of the media contract, got ${JSON.stringify(token)}`);
  await symlink(path.relative(webRoot, targetDir), path.join(webRoot, token), 'dir');
}

/**
 * Removes `webRoot/<name>` only when the name is token-shaped and the entry is itself a
 * symlink (lstat: never followed). A real file or folder with a token-like name is left
 * alone. Returns whether a link was removed.
 */
export async function removeTokenLink(webRoot: string, name: string): Promise<boolean> {
  if (!isToken(name)) return false;
  const entry = path.join(webRoot, name);
  try {
    if (!(await lstat(entry)).isSymbolicLink()) return false;
    await unlink(entry);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Names of the token-shaped symlinks in the web root (nothing else is ever listed). */
export async function listTokenLinks(webRoot: string): Promise<string[]> {
  const entries = await readdir(webRoot, { withFileTypes: true });
  return entries.filter((entry) => entry.isSymbolicLink() && isToken(entry.name)).map((entry) => entry.name);
}
