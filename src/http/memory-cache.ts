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

/**
 * With X-Accel (nginx sends the bytes), what is remembered is only where a derivative was found
 * verified: its X-Accel-Redirect path, by cache name. nginx opens that path itself, refusing any
 * link, so the fast path can answer a hot thumbnail with one header. An entry is trusted for
 * `maxAgeMs` only: a cache folder wiped by hand then costs a minute of 404s at most, not a
 * session's worth.
 */
export interface AccelPaths {
  get(key: string): string | undefined;
  set(key: string, accelPath: string): void;
}

export function createAccelPaths(maxEntries: number, maxAgeMs: number, now: () => number = Date.now): AccelPaths {
  const entries = new Map<string, { accelPath: string; at: number }>();
  return {
    get(key) {
      const found = entries.get(key);
      if (found === undefined) return undefined;
      if (now() - found.at > maxAgeMs) {
        entries.delete(key);
        return undefined;
      }
      return found.accelPath;
    },
    set(key, accelPath) {
      entries.delete(key);
      entries.set(key, { accelPath, at: now() });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}
