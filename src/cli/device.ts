import { parseArgs } from 'node:util';
import ms from 'ms';
import QRCode from 'qrcode';
import { ENROL_PATH_PREFIX } from '../media-contract.js';
import { receiptSentence, when } from '../receipts/index.js';
import { print, printTable, UsageError, withServices } from './context.js';
import { parseExpiry } from './key.js';

const USAGE = `Usage:
  keepsake device add <name> [--albums 'Summer 2024,Kids/*'] [--album NAME]… [--no-originals] [--expires 2027-01-01|30d]
                      [--valid 7d] [--png FILE]
      prints a one-time enrolment link for that device, and the same link as a QR code
      (--png writes it to FILE too, for a card in an envelope); --valid: how long the card works
  keepsake device list               every named device: albums, last seen, online now
  keepsake device remove <name>      end it at once, and say what it had fetched`;

const DEFAULT_VALID = '7d';

function parseValid(value: string): number {
  const valid = ms(value as ms.StringValue);
  if (typeof valid !== 'number' || !Number.isFinite(valid) || valid < 60_000) throw new UsageError(`--valid ${JSON.stringify(value)}: expected a duration of at least 1m, such as 24h or 7d`);
  return valid;
}

async function add(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
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
  const albums = [...(values.albums?.split(',') ?? []), ...(values.album ?? [])].map((album) => album.trim()).filter(Boolean);
  const validForMs = parseValid(values.valid);
  return withServices(async (services) => {
    const { key, code, enrolUntil } = await services.access.addDevice({ label: name, albums, canDownloadOriginals: !values['no-originals'], expiresAt: parseExpiry(values.expires), validForMs });
    const { publicUrl, host, port } = services.settings;
    const link = `${publicUrl ?? `http://${host}:${port}`}${ENROL_PATH_PREFIX}${code}`;
    print(`Device "${key.label}": albums ${key.albums.join(', ')}; originals ${key.canDownloadOriginals ? 'allowed' : 'not allowed'}.`);
    print(`Enrolment link (works once, until ${when(enrolUntil)}; open it on that device and press the button):`);
    print(link);
    print(await QRCode.toString(link, { type: 'terminal', small: true, errorCorrectionLevel: 'M' }));
    if (values.png !== undefined) {
      await QRCode.toFile(values.png, link, { type: 'png', width: 600, margin: 4, errorCorrectionLevel: 'M' });
      print(`The QR code is also in ${values.png}, to print. Whoever holds the card can use it once: keep it in an envelope.`);
    }
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
