/*
 * The one error base. Every error keepsake throws on purpose carries a stable `code` (what the
 * HTTP layer and the command line switch on), whether its message may be shown to whoever caused
 * it (`expose`, as koa's http-errors have it), and the error it was caused by. Nothing guesses
 * from a message's text.
 */

export interface KeepsakeErrorOptions {
  readonly cause?: unknown;
  /** The message is written for the person who caused it (a bad setting, a wrong argument). Default false. */
  readonly expose?: boolean;
}

export class KeepsakeError extends Error {
  readonly code: string;
  readonly expose: boolean;

  constructor(code: string, message: string, options: KeepsakeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.expose = options.expose ?? false;
  }
}

/** A mistake of whoever runs keepsake, in words they can act on: shown as it is, exit code 1. */
export class UserError extends KeepsakeError {
  constructor(code: string, message: string, options: Omit<KeepsakeErrorOptions, 'expose'> = {}) {
    super(code, message, { ...options, expose: true });
  }
}

export function isKeepsakeError(error: unknown, code?: string): error is KeepsakeError {
  return error instanceof KeepsakeError && (code === undefined || error.code === code);
}
