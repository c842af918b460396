/**
 * The one error type of the derivatives module. The HTTP layer maps `code` to a status in one
 * place; suggested mapping:
 *
 * | code              | meaning                                                        | HTTP |
 * | ----------------- | -------------------------------------------------------------- | ---- |
 * | UNREADABLE_SOURCE | the original cannot yield a derivative (not an image, truncated, over the pixel limit, …) | 404 |
 * | SOURCE_MISSING    | the original is gone (deleted or renamed since it was catalogued) | 404 |
 * | UNKNOWN_VARIANT   | no preset of that name                                          | 404 |
 * | NO_SPACE          | the cache's disk or quota is full                               | 503 + Retry-After |
 * | TIMEOUT           | the image took longer than the time limit                       | 503 |
 * | WRITE_FAILED      | any other failure to write the cache file                       | 500 |
 * | CLOSED            | the service is shutting down                                    | 503 |
 */
import { KeepsakeError } from '../errors.js';
import { PathRejectedError } from '../paths.js';

export const DERIVATIVE_ERROR_CODES = [
  'UNREADABLE_SOURCE',
  'SOURCE_MISSING',
  'UNKNOWN_VARIANT',
  'NO_SPACE',
  'TIMEOUT',
  'WRITE_FAILED',
  'CLOSED',
] as const;

export type DerivativeErrorCode = (typeof DERIVATIVE_ERROR_CODES)[number];

export class DerivativeError extends KeepsakeError {
  declare readonly code: DerivativeErrorCode;

  constructor(code: DerivativeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function isDerivativeError(error: unknown, code?: DerivativeErrorCode): error is DerivativeError {
  return error instanceof DerivativeError && (code === undefined || error.code === code);
}

/** File-system codes that mean "the disk (or the user's quota) is full". */
const NO_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A failure while writing a cache file, classified once. */
export function writeErrorFrom(error: unknown, what: string): DerivativeError {
  if (error instanceof DerivativeError) return error;
  const code = errnoCode(error);
  if (code !== undefined && NO_SPACE_CODES.has(code)) {
    return new DerivativeError('NO_SPACE', `no space left to write ${what} (${code})`, { cause: error });
  }
  return new DerivativeError('WRITE_FAILED', `cannot write ${what} (${code ?? 'error'})`, { cause: error });
}

/**
 * A failure while reading or decoding the original, classified once. sharp reports its own
 * time limit as an Error whose message starts with "timeout"; everything else sharp or libvips
 * says about the input means the file cannot become a derivative.
 */
export function sourceErrorFrom(error: unknown, what: string): DerivativeError {
  if (error instanceof DerivativeError) return error;
  const code = errnoCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR' || (error instanceof PathRejectedError && error.missing)) {
    return new DerivativeError('SOURCE_MISSING', `${what} is missing`, { cause: error });
  }
  // A decoder's scratch file (a HEIC's private copy) found the disk full: the photo is fine.
  if (code !== undefined && NO_SPACE_CODES.has(code)) {
    return new DerivativeError('NO_SPACE', `no space left to read ${what} (${code})`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/^timeout\b/i.test(message)) {
    return new DerivativeError('TIMEOUT', `${what} took longer than the time limit`, { cause: error });
  }
  return new DerivativeError('UNREADABLE_SOURCE', `${what} cannot be read as an image: ${message}`, {
    cause: error,
  });
}
