import { receiptTotals, when } from '../receipts/index.js';
import { parseDuration, parseOptions, warnOriginalsCarryPlaces } from './arguments.js';
import { print, printTable, UsageError, withServices } from './context.js';

const USAGE = `Usage:
  keepsake share <album> --ttl 24h [--no-originals] [--uses N]   print a signed, expiring link to one album
  keepsake share list                                             list share links
  keepsake share revoke <id>                                      close a link and end its sessions`;

async function create(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: [...args],
    allowPositionals: true,
    options: { ttl: { type: 'string' }, 'no-originals': { type: 'boolean', default: false }, uses: { type: 'string' } },
  });
  const [album] = positionals;
  if (album === undefined || positionals.length > 1) throw new UsageError(`share needs exactly one album\n${USAGE}`);
  if (values.ttl === undefined) throw new UsageError('--ttl is required (e.g. --ttl 24h)');
  const ttl = parseDuration('--ttl', values.ttl, '1m');
  const uses = values.uses === undefined ? null : /^\d+$/.test(values.uses) ? Number(values.uses) : Number.NaN;
  if (uses !== null && (!Number.isSafeInteger(uses) || uses < 1)) throw new UsageError(`--uses ${JSON.stringify(values.uses)}: expected a whole number of at least 1`);
  return withServices(async (services) => {
    const { share, path } = await services.access.createShare({ album, ttlMs: ttl, canDownloadOriginals: !values['no-originals'], maxUses: uses });
    // A share link is always told no places.
    warnOriginalsCarryPlaces({ canDownloadOriginals: share.canDownloadOriginals, location: 'none' }, 'this share link');
    const { publicUrl, host, port } = services.settings;
    print(`${publicUrl ?? `http://${host}:${port}`}${path}`);
    print(`Opens "${share.album}" until ${new Date(share.expiresAt).toISOString()}${uses === null ? '' : `, ${uses} time${uses === 1 ? '' : 's'}`}; originals ${share.canDownloadOriginals ? 'allowed' : 'not allowed'}. Id: ${share.id}`);
    return 0;
  });
}

async function list(): Promise<number> {
  return withServices(async (services) => {
    const now = Date.now();
    const shares = await services.access.listShares();
    if (shares.length === 0) {
      print('No share links.');
      return 0;
    }
    const rows = [];
    for (const share of shares) {
      const seen = receiptTotals(await services.access.shareReceipts(share.id));
      rows.push([
        share.id,
        share.album,
        new Date(share.expiresAt).toISOString(),
        `${share.uses}${share.maxUses === null ? '' : `/${share.maxUses}`}`,
        share.revokedAt !== null ? 'revoked' : share.expiresAt <= now ? 'expired' : share.maxUses !== null && share.uses >= share.maxUses ? 'used up' : 'open',
        String(seen.photos),
        String(seen.originals),
        String(seen.addresses),
        seen.lastSeen === undefined ? '-' : when(seen.lastSeen),
      ]);
    }
    printTable(['ID', 'ALBUM', 'EXPIRES', 'USES', 'STATE', 'PHOTOS SEEN', 'ORIGINALS', 'ADDRESSES', 'LAST SEEN'], rows);
    return 0;
  });
}

async function revoke(args: readonly string[]): Promise<number> {
  const [id] = args;
  if (id === undefined || args.length > 1) throw new UsageError(`share revoke needs one id\n${USAGE}`);
  return withServices(async (services) => {
    const ended = await services.access.revokeShare(id);
    print(`Closed share link ${id} and ended ${ended} session${ended === 1 ? '' : 's'}.`);
    return 0;
  });
}

export async function shareCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') return list();
  if (sub === 'revoke') return revoke(rest);
  if (sub === undefined || sub.startsWith('-')) throw new UsageError(USAGE);
  return create(args);
}
