import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { VideoTools } from '../ffmpeg.js';
import type { Logger } from '../log.js';
import type { WriteFile } from './cache-files.js';
import { writeFileDurably } from './cache-files.js';
import type { EncoderSettings, OutputFormat } from './formats.js';
import { encoderFor } from './formats.js';
import type { PipelineLimits } from './pipeline.js';
import type { Preset, PresetInput } from './presets.js';
import { invalidParameter, normalisePresets } from './presets.js';

export interface DerivativesOptions {
  /** Where derivatives live: `<cacheDir>/<variant>/<album>/<leaf>`. */
  cacheDir: string;
  log: Logger;
  /** Overlaid on DEFAULT_PRESETS by name; a name set to `undefined` removes that default. */
  presets?: Partial<Record<string, PresetInput>>;
  format?: OutputFormat;
  /** 1–100; defaults to the format's own (WebP 80, AVIF 50, JPEG 80). */
  quality?: number;
  /** Images made at once; default: the number of cores. */
  concurrency?: number;
  /** Per image (one decode and all its variants); default 30 s. */
  timeLimitMs?: number;
  /** Width × height above which an original is refused; default 100 megapixels. */
  limitInputPixels?: number;
  /** Test hook: replaces the durable write of a temp file, e.g. with a disk that fills up. */
  writeFile?: WriteFile;
  /** ffmpeg, for the `playable` copies of videos; without it (or when it is missing) none is made. */
  videoTools?: VideoTools;
}

/** The options, checked once, every field present. */
export interface DerivativesSettings {
  readonly cacheDir: string;
  readonly log: Logger;
  readonly presets: ReadonlyMap<string, Preset>;
  /** Configured variant names in order (defaults first: thumb, small, medium, large). */
  readonly variants: readonly string[];
  readonly encoder: EncoderSettings;
  readonly concurrency: number;
  readonly timeLimitMs: number;
  readonly limits: PipelineLimits;
  readonly writeFile: WriteFile;
  /** Present only when ffmpeg is. */
  readonly videoTools: VideoTools | undefined;
}

export const DEFAULT_TIME_LIMIT_MS = 30_000;
export const DEFAULT_LIMIT_INPUT_PIXELS = 100_000_000;
const MAX_TIME_LIMIT_MS = 3_600_000;

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw invalidParameter(name, `an integer ${min}–${max}`, value);
  }
  return value as number;
}

export function normaliseOptions(options: DerivativesOptions): DerivativesSettings {
  if (typeof options !== 'object' || options === null) throw invalidParameter('options', 'an object', options);
  const { cacheDir, log, writeFile = writeFileDurably } = options;
  if (typeof cacheDir !== 'string' || cacheDir === '') throw invalidParameter('cacheDir', 'a folder path', cacheDir);
  if (typeof log !== 'object' || log === null || typeof log.warn !== 'function') {
    throw invalidParameter('log', 'a pino logger', log);
  }
  if (typeof writeFile !== 'function') throw invalidParameter('writeFile', 'a function', writeFile);
  const presets = normalisePresets(options.presets);
  const timeLimitMs = integerOption('timeLimitMs', options.timeLimitMs, DEFAULT_TIME_LIMIT_MS, 1, MAX_TIME_LIMIT_MS);
  return Object.freeze({
    cacheDir: path.resolve(cacheDir),
    log, // named by the caller, as every service's is
    presets,
    variants: Object.freeze([...presets.keys()]),
    encoder: encoderFor(options.format, options.quality),
    concurrency: integerOption('concurrency', options.concurrency, availableParallelism(), 1, 1024),
    timeLimitMs,
    limits: Object.freeze({
      limitInputPixels: integerOption(
        'limitInputPixels',
        options.limitInputPixels,
        DEFAULT_LIMIT_INPUT_PIXELS,
        1,
        Number.MAX_SAFE_INTEGER,
      ),
      // sharp takes whole seconds; the job's own timer enforces the exact limit.
      timeoutSeconds: Math.max(1, Math.ceil(timeLimitMs / 1000)),
    }),
    writeFile,
    videoTools: options.videoTools?.missing === undefined ? options.videoTools : undefined,
  });
}
