/*
 * Derivatives kept in memory. A derivative's URL names its exact bytes (its name holds a hash of
 * the original's version and every setting), so once read the bytes never change under that
 * name and may be answered from memory: a hot thumbnail then costs no file-system round trip at
 * all (open, fstat, readlink, read and close each wait on libuv's pool of four threads). The
 * bytes were read from a file verified like any other. Least recently used entries go first once
 * `maxBytes` is reached; a file larger than an eighth of it is never kept.
 */

export interface CachedFile {
  readonly bytes: Buffer;
  readonly etag: string;
  readonly lastModified: Date;
  readonly type: string;
}

export interface MemoryCache {
  get(key: string): CachedFile | undefined;
  set(key: string, file: CachedFile): void;
  readonly stats: () => { entries: number; bytes: number; hits: number; misses: number };
}

export function createMemoryCache(maxBytes: number): MemoryCache {
  // A Map iterates in insertion order: re-inserting on every hit keeps the oldest use first.
  const entries = new Map<string, CachedFile>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const found = entries.get(key);
      if (found === undefined) {
        misses += 1;
        return undefined;
      }
      hits += 1;
      entries.delete(key);
      entries.set(key, found);
      return found;
    },
    set(key, file) {
      if (file.bytes.length > maxBytes / 8 || entries.has(key)) return;
      entries.set(key, file);
      bytes += file.bytes.length;
      for (const [oldest, entry] of entries) {
        if (bytes <= maxBytes) break;
        entries.delete(oldest);
        bytes -= entry.bytes.length;
      }
    },
    stats: () => ({ entries: entries.size, bytes, hits, misses }),
  };
}
