import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

/*
 * A streamed ZIP, through yazl: entries are STORED (photos and videos do not compress) and each
 * is declared with its size, so yazl picks ZIP64 records exactly where they are needed (an entry
 * or an offset past 4 GiB, more than 65,534 entries). Nothing is kept but each entry's central
 * directory record (its name and a few numbers) until the end.
 */

/** The slice of yazl's API used here (yazl ships no types; @types/yazl would be a dev dependency for 30 lines). */
export interface YazlEntryOptions {
  readonly mtime: Date;
  readonly compress: false;
  readonly size?: number;
  readonly forceZip64Format?: boolean;
}
interface YazlZipFile {
  readonly outputStream: Readable;
  addReadStream(stream: Readable, name: string, options: YazlEntryOptions): void;
  end(options?: { forceZip64Format?: boolean }, calculatedTotalSize?: (bytes: number) => void): void;
  on(event: 'error', listener: (error: Error) => void): this;
}
export interface Yazl {
  readonly ZipFile: new () => YazlZipFile;
}

export const yazl = createRequire(import.meta.url)('yazl') as Yazl;

/** What every entry is written with: stored, its size declared up front (yazl then checks every byte came). */
export function entryOptions(size: number, mtime: Date, forceZip64 = false): YazlEntryOptions {
  return { mtime, compress: false, size, ...(forceZip64 ? { forceZip64Format: true } : {}) };
}

export interface ZipWriter {
  /** The archive's bytes; errors (a file that read short) destroy it. */
  readonly output: Readable;
  /** Adds an entry read from `stream` (exactly `size` bytes); resolves once the stream is read and closed. */
  addStream(stream: Readable, name: string, size: number, mtime: Date): Promise<void>;
  /** Adds an entry from memory (a derivative read before), the same way. */
  addBytes(bytes: Buffer, name: string, mtime: Date): Promise<void>;
  /** Writes the central directory and ends the output. */
  end(): void;
  /** Stops at once: the entry being read is closed and the output destroyed. */
  destroy(): void;
}

/** `forceZip64` writes ZIP64 records even where not needed: for tests, and readers that want them. */
export function createZipWriter(options: { readonly forceZip64?: boolean } = {}): ZipWriter {
  const zip = new yazl.ZipFile();
  const output = zip.outputStream;
  const force = options.forceZip64 === true;
  let reading: Readable | undefined;
  zip.on('error', (error) => output.destroy(error));
  function addStream(stream: Readable, name: string, size: number, mtime: Date): Promise<void> {
    reading = stream;
    return new Promise<void>((resolve, reject) => {
      // yazl pipes the stream but does not listen for its errors: a failed read must end the archive.
      stream.once('error', (error) => {
        output.destroy(error);
        reject(error);
      });
      stream.once('close', () => {
        if (reading === stream) reading = undefined;
        resolve();
      });
      zip.addReadStream(stream, name, entryOptions(size, mtime, force));
    });
  }
  return {
    output,
    addStream,
    addBytes(bytes, name, mtime) {
      // As a stream, so it waits its turn like a file and never queues up in the output.
      return addStream(Readable.from([bytes]), name, bytes.length, mtime);
    },
    end() {
      zip.end(force ? { forceZip64Format: true } : {});
    },
    destroy() {
      reading?.destroy();
      output.destroy();
    },
  };
}
