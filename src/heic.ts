import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { KeepsakeError } from './errors.js';
import { runTool, toolPath } from './system-tools.js';

/*
 * HEIC: HEVC pictures in a HEIF file, what iPhones save. sharp's prebuilt libvips reads the
 * HEIF container (size, EXIF, ICC profile) but has no HEVC decoder, for patent reasons, so the
 * pixels come from elsewhere, chosen once:
 *
 * - Debian's `heif-convert` (package libheif-examples: libheif with libde265) when installed. It
 *   is handed a private copy of the bytes keepsake read and checked, under a name keepsake
 *   makes (never the photo's own name), and run as system-tools.ts runs every program (no
 *   shell, a time and a memory limit). Its output is a JPEG at quality 95 that keeps
 *   the ICC profile; derivatives are made from it as from any JPEG.
 * - Otherwise libheif compiled to WebAssembly (libheif-js, through heic-decode), in a worker
 *   thread of its own so the event loop never waits for it: one picture at a time (memory stays
 *   that of one decode), a worker that overruns its time limit is ended, and so is one left idle
 *   for 15 s (WebAssembly memory never shrinks otherwise). Its RGBA pixels carry no
 *   profile, so a Display P3 photo shows in sRGB's narrower colours.
 *
 * Either way the pixels come out upright: HEIF's own rotation and mirroring are applied, as the
 * format requires, and the EXIF orientation inside a HEIC is not applied a second time.
 * Only decoders.ts uses these, to hand sharp what it can read.
 */

export type HeicPixels =
  /** An intermediate file sharp decodes (heif-convert's JPEG). */
  | { readonly kind: 'encoded'; readonly bytes: Buffer }
  | { readonly kind: 'raw'; readonly data: Buffer; readonly width: number; readonly height: number; readonly channels: 4 };

export interface HeicDecodeLimits {
  readonly timeoutMs: number;
  /** Width × height from the header, already checked against the pixel limit: sizes the memory limit. */
  readonly pixels: number;
}

export interface HeicDecoder {
  /** For the start-up log line. */
  readonly name: string;
  decode(bytes: Buffer, limits: HeicDecodeLimits): Promise<HeicPixels>;
}

/** The picture could not be decoded (broken, not HEVC, too slow): the photo is skipped or its derivative refused. */
export class HeicDecodeError extends KeepsakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HEIC_UNDECODABLE', message, options);
  }
}

const HEIF_CONVERT = 'heif-convert';
/** What one decode may use beyond its pixels: the decoder itself, the HEVC stream, the JPEG it writes. */
const MEMORY_BASE_BYTES = 256 * 1024 * 1024;
const MEMORY_BYTES_PER_PIXEL = 16;

function heifConvert(command: string): HeicDecoder {
  return {
    name: 'heif-convert (libheif with libde265)',
    async decode(bytes, limits) {
      const folder = await mkdtemp(path.join(tmpdir(), 'keepsake-heic-'));
      try {
        const input = path.join(folder, 'in.heic');
        const output = path.join(folder, 'out.jpg');
        await writeFile(input, bytes, { mode: 0o600 });
        const memoryBytes = MEMORY_BASE_BYTES + limits.pixels * MEMORY_BYTES_PER_PIXEL;
        await runTool(command, ['--quiet', '-q', '95', input, output], { timeoutMs: limits.timeoutMs, memoryBytes, maxOutputBytes: 64 * 1024 }).catch((error: unknown) => {
          throw new HeicDecodeError(`could not decode the HEIC: ${(error as Error).message}`, { cause: error });
        });
        // A file of several top-level pictures (a burst, a collection) gets numbered outputs instead.
        const decoded = await readFile(output).catch((error: unknown) => {
          throw new HeicDecodeError('could not decode the HEIC: heif-convert wrote no single picture (the file holds several)', { cause: error });
        });
        return { kind: 'encoded', bytes: decoded };
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },
  };
}

/** The worker's code: heic-decode (CommonJS), one message in, one out. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const decode = require(workerData.module);
parentPort.on('message', async (bytes) => {
  try {
    const image = await decode({ buffer: bytes });
    parentPort.postMessage({ width: image.width, height: image.height, data: image.data });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
});
`;

interface WorkerAnswer {
  readonly width?: number;
  readonly height?: number;
  readonly data?: Uint8ClampedArray;
  readonly error?: string;
}

/** WebAssembly memory only grows: a worker left idle this long is ended, giving its memory back. */
const WORKER_IDLE_MS = 15_000;

function webAssembly(): HeicDecoder {
  const module = createRequire(import.meta.url).resolve('heic-decode');
  let worker: Worker | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let pending = 0;
  let idleTimer: NodeJS.Timeout | undefined;

  function end(current: Worker): void {
    if (worker === current) worker = undefined;
    void current.terminate();
  }

  function workerFor(): Worker {
    if (worker !== undefined) return worker;
    const started = new Worker(WORKER_SOURCE, { eval: true, workerData: { module } });
    started.unref();
    started.once('exit', () => {
      if (worker === started) worker = undefined;
    });
    worker = started;
    return started;
  }

  function decodeOne(bytes: Buffer, limits: HeicDecodeLimits): Promise<HeicPixels> {
    const current = workerFor();
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        current.off('message', onMessage);
        current.off('error', onError);
      };
      const onMessage = (answer: WorkerAnswer): void => {
        finish();
        if (answer.error !== undefined || answer.data === undefined) return reject(new HeicDecodeError(`libheif could not decode it: ${answer.error ?? 'no pixels'}`));
        const data = Buffer.from(answer.data.buffer, answer.data.byteOffset, answer.data.byteLength);
        resolve({ kind: 'raw', data, width: answer.width!, height: answer.height!, channels: 4 });
      };
      const onError = (error: Error): void => {
        finish();
        end(current);
        reject(new HeicDecodeError(`libheif stopped: ${error.message}`, { cause: error }));
      };
      // A decode that overruns is ended with its worker; the next picture gets a new one.
      const timer = setTimeout(() => {
        finish();
        end(current);
        reject(new HeicDecodeError(`libheif took longer than ${limits.timeoutMs / 1000} s`));
      }, limits.timeoutMs);
      current.on('message', onMessage);
      current.once('error', onError);
      current.postMessage(bytes);
    });
  }

  return {
    name: 'libheif-js (WebAssembly; install libheif-examples for Debian\'s faster heif-convert)',
    decode(bytes, limits) {
      clearTimeout(idleTimer);
      pending += 1;
      // One picture at a time: a worker holds one decode's memory, never several.
      const result = queue.then(() => decodeOne(bytes, limits));
      queue = result
        .catch(() => undefined)
        .finally(() => {
          pending -= 1;
          if (pending > 0 || worker === undefined) return;
          const idle = worker;
          idleTimer = setTimeout(() => end(idle), WORKER_IDLE_MS);
          idleTimer.unref();
        });
      return result;
    },
  };
}

let chosen: HeicDecoder | undefined;

/** The HEIC decoder of this machine, chosen once: Debian's heif-convert when installed, else WebAssembly. */
export function heicDecoder(): HeicDecoder {
  if (chosen === undefined) {
    const command = toolPath(HEIF_CONVERT);
    chosen = command === undefined ? webAssembly() : heifConvert(command);
  }
  return chosen;
}

/** Replaces the choice, for a benchmark that runs the whole pipeline through each decoder in turn. */
export function useHeicDecoder(decoder: HeicDecoder): void {
  chosen = decoder;
}

/** Every decoder this machine has, for tests and benchmarks that compare them: heif-convert only when installed. */
export function heicDecoders(): HeicDecoder[] {
  const command = toolPath(HEIF_CONVERT);
  return command === undefined ? [webAssembly()] : [heifConvert(command), webAssembly()];
}
