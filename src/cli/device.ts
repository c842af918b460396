import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import QRCode from 'qrcode';
import { UserError } from '../errors.js';
import { ENROL_PATH_PREFIX } from '../media-contract.js';
import { receiptSentence, when } from '../receipts/index.js';
import { replaceFile } from '../replace-file.js';
import type { Services } from '../services.js';
import { parseDuration, parseExpiry, parseGrant, parseOptions, warnOfUnmatchedPatterns, warnOriginalsCarryPlaces } from './arguments.js';
import { print, printTable, UsageError, withServices } from './context.js';

const USAGE = `Usage:
  keepsake device add <name> [--albums 'Summer 2024,Kids/*'] [--album NAME]… [--no-originals] [--expires 2027-01-01|30d]
                      [--valid 7d] [--png FILE]
      prints a one-time enrolment link for that device, and the same link as a QR code
      (--png writes it to FILE too, for a card in an envelope); --valid: how long the card works
  keepsake device list               every named device: albums, last seen, online now
  keepsake device remove <name>      end it at once, and say what it had fetched`;

const DEFAULT_VALID = '7d';

const QR_OPTIONS = { errorCorrectionLevel: 'M' } as const;

/** What stops a card being written into `folder`, in words; undefined when nothing does. */
async function folderProblem(folder: string): Promise<string | undefined> {
  try {
    if (!(await stat(folder)).isDirectory()) return `${folder} is not a folder`;
    await access(folder, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    switch ((error as NodeJS.ErrnoException).code) {
      case 'ENOENT':
        return `the folder ${folder} does not exist`;
      case 'ENOTDIR':
        return `${folder} is not a folder`;
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        return `the folder ${folder} is not writable`;
      default:
        return `the folder ${folder} cannot be used (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    }
  }
}

/** Refuses a --png the card cannot be written to, before the device is added. */
async function checkCardFile(file: string): Promise<void> {
  const refuse = (why: string) => new UsageError(`--png ${JSON.stringify(file)}: ${why}`);
  const problem = await folderProblem(path.dirname(path.resolve(file)));
  if (problem !== undefined) throw refuse(problem);
  const existing = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw refuse(`it cannot be written (${error.code ?? error.message})`);
  });
  if (existing?.isDirectory() === true) throw refuse('it is a folder; expected a file name such as card.png');
}

/** The card as a PNG, written whole or not at all; 0600, as its link opens the gallery once. */
async function writeCard(file: string, link: string): Promise<void> {
  await replaceFile(file, await QRCode.toBuffer(link, { type: 'png', width: 600, margin: 4, ...QR_OPTIONS }), 0o600);
}

/** Writes the card, or removes the device again: a device without its card is of no use, and its name would be taken. */
async function writeCardOrUndo(services: Services, file: string, link: string, name: string): Promise<void> {
  try {
    await writeCard(file, link);
  } catch (error) {
    await services.access.removeDevice(name);
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UserError('CARD_NOT_WRITTEN', `--png ${JSON.stringify(file)}: could not write it (${why}); the device "${name}" was not added`, { cause: error });
  }
}

async function add(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: [...args],
    allowPositionals: true,
    options: {
      albums: { type: 'string' },
      album: { type: 'string', multiple: true },
      'no-originals': { type: 'boolean', default: false },
      expires: { type: 'string' },
      valid: { type: 'string', default: DEFAULT_VALID },
      png: { type: 'string' },
    },
  });
  const [name] = positionals;
  if (name === undefined || positionals.length > 1) throw new UsageError(`device add needs exactly one name (quote it: "Grandma's iPad")\n${USAGE}`);
  const albums = parseGrant(values);
  const expiresAt = parseExpiry(values.expires);
  const validForMs = parseDuration('--valid', values.valid, '1m');
  const { png } = values;
  if (png !== undefined) await checkCardFile(png);
  return withServices(async (services) => {
    const { key, code, enrolUntil } = await services.access.addDevice({ label: name, albums, canDownloadOriginals: !values['no-originals'], expiresAt, validForMs });
    const { publicUrl, host, port } = services.settings;
    const link = `${publicUrl ?? `http://${host}:${port}`}${ENROL_PATH_PREFIX}${code}`;
    if (png !== undefined) await writeCardOrUndo(services, png, link, key.label);
    if (albums.length > 0) warnOfUnmatchedPatterns(key.albums, services.library.preview.albums());
    warnOriginalsCarryPlaces(key, `the device "${key.label}"`);
    print(`Device "${key.label}": albums ${key.albums.join(', ')}; originals ${key.canDownloadOriginals ? 'allowed' : 'not allowed'}.`);
    print(`Enrolment link (works once, until ${when(enrolUntil)}; open it on that device and press the button):`);
    print(link);
    print(await QRCode.toString(link, { type: 'terminal', small: true, ...QR_OPTIONS }));
    if (png !== undefined) print(`The QR code is also in ${png}, to print. Whoever holds the card can use it once: keep it in an envelope.`);
    return 0;
  });
}

async function list(): Promise<number> {
  return withServices(async (services) => {
    const devices = await services.access.listDevices();
    if (devices.length === 0) {
      print('No named devices. Add one with: keepsake device add "Grandma\'s iPad"');
      return 0;
    }
    printTable(
      ['DEVICE', 'HOW', 'ALBUMS', 'ORIGINALS', 'LAST SEEN', 'ONLINE'],
      devices.map((device) => [
        device.name,
        device.kind === 'card' ? (device.enrolUntil === undefined ? 'card' : `card, unused until ${when(device.enrolUntil)}`) : 'named by visitor',
        device.albums.join(', '),
        device.canDownloadOriginals ? 'yes' : 'no',
        device.lastSeen === undefined ? 'never' : when(device.lastSeen),
        device.online ? 'yes' : 'no',
      ]),
    );
    return 0;
  });
}

async function remove(args: readonly string[]): Promise<number> {
  const [name] = args;
  if (name === undefined || args.length > 1) throw new UsageError(`device remove needs exactly one name\n${USAGE}`);
  return withServices(async (services) => {
    const { ended, receipts } = await services.access.removeDevice(name);
    print(`Removed device "${name}": ended ${ended} session${ended === 1 ? '' : 's'}; its link is gone.`);
    for (const receipt of receipts) print(`  It ${receiptSentence(receipt)}.`);
    return 0;
  });
}

export async function deviceCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'add') return add(rest);
  if (sub === undefined || sub === 'list') return list();
  if (sub === 'remove') return remove(rest);
  throw new UsageError(USAGE);
}
