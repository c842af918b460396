import { randomUUID } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `file` whole or not at all: to a temporary name of this call's own, then renamed into
 * place, so a reader never sees half a file. The name is unique per call because several keepsake
 * processes (the server, a `keepsake key add`) write the same files at start: a shared `.tmp`
 * name let one rename the other's file away, and the other failed.
 */
export async function replaceFile(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}-${randomUUID()}`;
  try {
    await writeFile(temporary, data, { mode });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
