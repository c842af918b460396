import pino from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

/**
 * The one logger: pino JSON lines on stdout (or a given stream, for tests). Secrets never
 * reach it: cookies and passwords are not logged, and tokens and share links only as the media contract shortens them (`shortToken`, `loggablePath`).
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    redact: { paths: ['password', '*.password', 'cookie', '*.cookie', 'req.headers.cookie'], censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
