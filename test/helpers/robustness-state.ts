import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';

/** What the robustness tests read straight from a state dir, as an admin's shell would. */

export interface SessionRow {
  readonly sid: string;
  readonly token: string;
  readonly state: 'pending' | 'active';
  readonly expiresAt: number;
}

/** Every session row, read with a separate read-only connection (the server may be running or dead). */
export function sessionRows(stateDir: string): SessionRow[] {
  const db = new Database(path.join(stateDir, 'keepsake.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT sid, token, state, expires_at AS expiresAt FROM sessions ORDER BY created_at').all() as SessionRow[];
  } finally {
    db.close();
  }
}

/** Rows that a request would accept now: active and unexpired. */
export function liveTokens(stateDir: string, now = Date.now()): Set<string> {
  return new Set(sessionRows(stateDir).filter((row) => row.state === 'active' && row.expiresAt > now).map((row) => row.token));
}

/** Every name in the web root, sorted. */
export async function webRootEntries(webRoot: string): Promise<string[]> {
  return (await readdir(webRoot)).sort();
}

/** Names of the token-shaped symlinks in the web root. */
export async function tokenLinkNames(webRoot: string): Promise<Set<string>> {
  const entries = await readdir(webRoot, { withFileTypes: true });
  return new Set(entries.filter((entry) => entry.isSymbolicLink() && /^[A-Za-z]{11,17}$/.test(entry.name)).map((entry) => entry.name));
}

/** relative path → sha256 of every file (links recorded by their target text, never followed). */
export async function treeHashes(root: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const walk = async (directory: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      const relative = path.relative(root, full);
      if (entry.isDirectory()) {
        hashes.set(`${relative}/`, 'folder');
        await walk(full);
      } else if (entry.isFile()) hashes.set(relative, createHash('sha256').update(await readFile(full)).digest('hex'));
      else if (entry.isSymbolicLink()) hashes.set(relative, `link -> ${await readlink(full)}`);
    }
  };
  await walk(root);
  return hashes;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

export function sorted(names: Iterable<string>): string[] {
  return [...names].sort();
}
