import { UserError } from '../errors.js';
import { createLogger } from '../log.js';
import { openServices, type Services } from '../services.js';
import { loadSettings } from '../settings.js';

export class UsageError extends UserError {
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super('USAGE', message, options);
  }
}

/** Opens the same services the server uses (without HTTP or the watcher), runs `action`, closes. */
export async function withServices<T>(action: (services: Services) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  const log = createLogger(settings.logLevel === 'info' ? 'warn' : settings.logLevel);
  const services = await openServices(settings, log);
  try {
    return await action(services);
  } finally {
    await services.close();
  }
}

/**
 * A reader that goes away (`keepsake share … | head -1`) closes standard output. What is left to
 * print is dropped and the command finishes its work quietly, as Unix tools end on a closed pipe:
 * a command stopped half-way by its output would leave half a change behind.
 */
export function dropOutputWhenClosed(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

export function print(line = ''): void {
  if (process.stdout.destroyed) return;
  process.stdout.write(`${line}\n`);
}

/** One line on standard error about something done that may not be what was meant. */
export function warn(line: string): void {
  process.stderr.write(`keepsake: warning: ${line}\n`);
}

/** Prints rows as aligned columns under a header. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (row: readonly string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  print(format(header));
  for (const row of rows) print(format(row));
}
