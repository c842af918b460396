import { UserError } from '../errors.js';
import { createLogger } from '../log.js';
import { openServices, type Services } from '../services.js';
import { loadSettings } from '../settings.js';

export class UsageError extends UserError {
  constructor(message: string) {
    super('USAGE', message);
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

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Prints rows as aligned columns under a header. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (row: readonly string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  print(format(header));
  for (const row of rows) print(format(row));
}
