import { isLocationPolicy, type LocationPolicy } from '../auth/index.js';
import { parseExpiry, parseGrant, parseOptions, warnOfUnmatchedPatterns, warnOriginalsCarryPlaces } from './arguments.js';
import { print, printTable, UsageError, withServices } from './context.js';
import { passwordFromPrompt, passwordFromStdin } from './read-password.js';

const USAGE = `Usage:
  keepsake key add <label> [--prompt | --password-stdin | --password P] [--albums 'Summer 2024,Kids/*'] [--album NAME]… [--no-originals] [--expires 2027-01-01|30d]
                   [--location none|city|exact] [--household]
      without a password option, a password is made and printed once; --prompt asks for one without
      echoing it, --password-stdin reads it from standard input (neither shows in ps or the shell history).
      --location: what the key is told of where photos were taken: none (default), city (rounded to
      about 10 km), exact (only with --household, for the household's own key)
  keepsake key list
  keepsake key remove <label>`;

/** The password the admin chose, if any: from the prompt, standard input, or (shown in `ps`) the command line. */
async function chosenPassword(values: { password?: string | undefined; 'password-stdin': boolean; prompt: boolean }): Promise<string | undefined> {
  const ways = [values.password !== undefined, values['password-stdin'], values.prompt].filter(Boolean).length;
  if (ways > 1) throw new UsageError('choose one of --prompt, --password-stdin and --password');
  if (values.prompt) return passwordFromPrompt();
  if (values['password-stdin']) return passwordFromStdin();
  if (values.password !== undefined) {
    process.stderr.write('keepsake: note: a password given with --password shows in the process list and the shell history; --prompt and --password-stdin keep it out\n');
  }
  return values.password;
}

async function add(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: [...args],
    allowPositionals: true,
    options: {
      password: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      prompt: { type: 'boolean', default: false },
      albums: { type: 'string' },
      album: { type: 'string', multiple: true },
      'no-originals': { type: 'boolean', default: false },
      expires: { type: 'string' },
      location: { type: 'string' },
      household: { type: 'boolean', default: false },
    },
  });
  const [label] = positionals;
  if (values.location !== undefined && !isLocationPolicy(values.location)) throw new UsageError(`--location ${JSON.stringify(values.location)}: expected none, city or exact`);
  if (label === undefined || positionals.length > 1) throw new UsageError(`key add needs exactly one label\n${USAGE}`);
  const albums = parseGrant(values);
  const expiresAt = parseExpiry(values.expires);
  const given = await chosenPassword(values);
  return withServices(async (services) => {
    const { key, password } = await services.access.addKey({
      label,
      password: given,
      albums,
      canDownloadOriginals: !values['no-originals'],
      expiresAt,
      location: values.location as LocationPolicy | undefined,
      household: values.household,
    });
    if (albums.length > 0) warnOfUnmatchedPatterns(key.albums, services.library.preview.albums());
    warnOriginalsCarryPlaces(key, `the key "${key.label}"`);
    print(`Added key "${key.label}": albums ${key.albums.join(', ')}; originals ${key.canDownloadOriginals ? 'allowed' : 'not allowed'}${key.location === 'none' ? '' : `; places ${key.location}`}${key.household ? ' (household)' : ''}${key.expiresAt === null ? '' : `; expires ${new Date(key.expiresAt).toISOString()}`}.`);
    if (given === undefined) print(`Password (shown only this once): ${password}`);
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
      ['LABEL', 'ALBUMS', 'ORIGINALS', 'PLACES', 'EXPIRES', 'SESSIONS'],
      keys.map(({ key, liveSessions }) => [
        key.label,
        key.albums.join(', '),
        key.canDownloadOriginals ? 'yes' : 'no',
        `${key.location}${key.household ? ' (household)' : ''}`,
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
