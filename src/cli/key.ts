import { parseArgs } from 'node:util';
import ms from 'ms';
import { print, printTable, UsageError, withServices } from './context.js';

const USAGE = `Usage:
  keepsake key add <label> [--password P] [--albums 'Summer 2024,Kids/*'] [--album NAME]… [--no-originals] [--expires 2027-01-01|30d]
  keepsake key list
  keepsake key remove <label>`;

/** `--expires`: an ISO date/time or a duration from now such as 30d. */
export function parseExpiry(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined) return null;
  const duration = ms(value as ms.StringValue);
  if (typeof duration === 'number' && Number.isFinite(duration) && duration > 0) return now + duration;
  const date = Date.parse(value);
  if (Number.isNaN(date)) throw new UsageError(`--expires ${JSON.stringify(value)}: expected a date such as 2027-01-01 or a duration such as 30d`);
  return date;
}

async function add(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      password: { type: 'string' },
      albums: { type: 'string' },
      album: { type: 'string', multiple: true },
      'no-originals': { type: 'boolean', default: false },
      expires: { type: 'string' },
    },
  });
  const [label] = positionals;
  if (label === undefined || positionals.length > 1) throw new UsageError(`key add needs exactly one label\n${USAGE}`);
  const albums = [...(values.albums?.split(',') ?? []), ...(values.album ?? [])].map((album) => album.trim()).filter(Boolean);
  return withServices(async (services) => {
    const { key, password } = await services.access.addKey({
      label,
      password: values.password,
      albums,
      canDownloadOriginals: !values['no-originals'],
      expiresAt: parseExpiry(values.expires),
    });
    print(`Added key "${key.label}": albums ${key.albums.join(', ')}; originals ${key.canDownloadOriginals ? 'allowed' : 'not allowed'}${key.expiresAt === null ? '' : `; expires ${new Date(key.expiresAt).toISOString()}`}.`);
    if (values.password === undefined) print(`Password (shown only this once): ${password}`);
    return 0;
  });
}

async function list(): Promise<number> {
  return withServices(async (services) => {
    const now = Date.now();
    const keys = await services.access.listKeys();
    if (keys.length === 0) {
      print('No keys. Add one with: keepsake key add family');
      return 0;
    }
    printTable(
      ['LABEL', 'ALBUMS', 'ORIGINALS', 'EXPIRES', 'SESSIONS'],
      keys.map(({ key, liveSessions }) => [
        key.label,
        key.albums.join(', '),
        key.canDownloadOriginals ? 'yes' : 'no',
        key.expiresAt === null ? 'never' : `${new Date(key.expiresAt).toISOString()}${key.expiresAt <= now ? ' (expired)' : ''}`,
        String(liveSessions),
      ]),
    );
    return 0;
  });
}

async function remove(args: readonly string[]): Promise<number> {
  const [label] = args;
  if (label === undefined || args.length > 1) throw new UsageError(`key remove needs exactly one label\n${USAGE}`);
  return withServices(async (services) => {
    const { ended } = await services.access.removeKey(label);
    print(`Removed key "${label}" and ended ${ended} session${ended === 1 ? '' : 's'} (their links are gone).`);
    return 0;
  });
}

export async function keyCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return add(rest);
    case 'list':
      return list();
    case 'remove':
      return remove(rest);
    default:
      throw new UsageError(USAGE);
  }
}
