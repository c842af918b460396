import { constants, type Stats } from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { KeepsakeError } from './errors.js';
import { isPlainSegment } from './media-contract.js';

/** Thrown for every path a visitor may not reach; the HTTP layer turns it into the uniform 404. */
export class PathRejectedError extends KeepsakeError {
  /** `missing`: nothing is there at all (rather than something that may not be read). */
  constructor(
    readonly reason: string,
    readonly missing = false,
  ) {
    super('PATH_REJECTED', `path rejected: ${reason}`);
  }
}

/** True when `child` is `parent` itself or lies below it (both absolute and normalised). */
export function isWithin(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** A file opened by `openVerified`: the caller reads it through `handle` and closes it. */
export interface VerifiedFile {
  readonly handle: FileHandle;
  /** Where the open file really is (links resolved), as proven on the descriptor. */
  readonly realPath: string;
  readonly stats: Stats;
}

// O_NONBLOCK: a FIFO swapped in would otherwise hold a thread until someone writes to it.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const GONE_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'ENAMETOOLONG', 'EISDIR', 'ENXIO']);

/**
 * Where an open descriptor's file really is. Linux names it in /proc; elsewhere the path is
 * resolved afresh and accepted only when it is the very file that is open (device and inode).
 */
async function realPathOf(handle: FileHandle, opened: string, stats: Stats): Promise<string | undefined> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    const real = await realpath(opened).catch(() => undefined);
    const now = real === undefined ? undefined : await stat(real).catch(() => undefined);
    return now !== undefined && now.dev === stats.dev && now.ino === stats.ino ? real : undefined;
  }
}

/**
 * The only way a path becomes an open file. Opens `root/segments…` (links are followed: the
 * catalogue allows links that stay inside their album), then proves on the open descriptor that
 * the file really lies inside `container` (a real, absolute folder), is not hidden below `root`
 * and is a regular file. What is read is what was checked: a folder swapped for a link before or
 * after the open cannot change which file is read, because the check is made on the file that
 * is open, not on a name.
 */
export async function openVerified(root: string, segments: readonly string[], container: string): Promise<VerifiedFile> {
  if (segments.length === 0 || !segments.every(isPlainSegment)) {
    throw new PathRejectedError('not a plain path');
  }
  const opened = path.join(root, ...segments);
  let handle: FileHandle;
  try {
    handle = await open(opened, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (GONE_CODES.has(code)) throw new PathRejectedError(`cannot open (${code})`, code === 'ENOENT' || code === 'ENOTDIR');
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new PathRejectedError('not a regular file');
    const realPath = await realPathOf(handle, opened, stats);
    if (realPath === undefined || !isWithin(container, realPath) || realPath === container) throw new PathRejectedError('lies outside its folder');
    if (path.relative(root, realPath).split(path.sep).some((segment) => segment.startsWith('.'))) throw new PathRejectedError('is hidden');
    return { handle, realPath, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The whole of a verified file, read from the descriptor that was checked (never by name again). */
export async function readVerified(root: string, segments: readonly string[], container: string): Promise<Buffer> {
  const { handle } = await openVerified(root, segments, container);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
