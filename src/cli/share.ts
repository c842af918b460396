import { parseArgs } from 'node:util';
import ms from 'ms';
import { customAlphabet } from 'nanoid';
import { normalisePattern } from '../auth/index.js';
import { signShareLink } from '../guard/index.js';
import { shareViewName, shareViewSpec } from '../links/index.js';
import { statePaths } from '../config.js';
import { loadOrCreateSecret } from '../store/index.js';
import { print, printTable, UsageError, withServices } from './context.js';

const USAGE = `Usage:
  keepsake share <album> --ttl 24h [--no-originals] [--uses N]   print a signed, expiring link to one album
  keepsake share list                                             list share links
  keepsake share revoke <id>                                      close a link and end its sessions`;

const newShareId = customAlphabet('abcdefghijkmnpqrstuvwxyz23456789', 10);

function parseTtl(value: string | undefined): number {
  const ttl = value === undefined ? undefined : ms(value as ms.StringValue);
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 60_000) {
    throw new UsageError(`--ttl ${JSON.stringify(value ?? '')}: expected a duration of at least 1m, such as 24h or 7d`);
  }
  return ttl;
}

async function create(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { ttl: { type: 'string' }, 'no-originals': { type: 'boolean', default: false }, uses: { type: 'string' } },
  });
  const [raw] = positionals;
  if (raw === undefined || positionals.length > 1) throw new UsageError(`share needs exactly one album\n${USAGE}`);
  const album = normalisePattern(raw);
  if (album.includes('*')) throw new UsageError(`share ${JSON.stringify(raw)}: expected one album path, not a pattern`);
  const ttl = parseTtl(values.ttl);
  const uses = values.uses === undefined ? null : Number(values.uses);
  if (uses !== null && (!Number.isInteger(uses) || uses < 1)) throw new UsageError(`--uses ${JSON.stringify(values.uses)}: expected a whole number of at least 1`);
  return withServices(async (services) => {
    if (!services.library.albumPaths().includes(album)) {
      throw new UsageError(`no album "${album}" in the catalogue (start the server once so it scans the media root); albums: ${services.library.albumPaths().slice(0, 10).join(', ')}`);
    }
    const secret = loadOrCreateSecret(statePaths(services.config).secrets, 'guard-key');
    const share = { id: newShareId(), album, canDownloadOriginals: !values['no-originals'], expiresAt: Date.now() + ttl, maxUses: uses, createdAt: Date.now() };
    services.shares.add(share);
    await services.views.sync(shareViewSpec({ ...share, uses: 0, revokedAt: null }, ['video', ...services.derivativeVariants]), services.library.albumPaths());
    const path = signShareLink({ id: share.id, album, expiresAt: share.expiresAt, canDownloadOriginals: share.canDownloadOriginals, uses: uses ?? undefined }, secret);
    const { publicUrl, host, port } = services.config;
    print(`${publicUrl ?? `http://${host}:${port}`}${path}`);
    print(`Opens "${album}" until ${new Date(share.expiresAt).toISOString()}${uses === null ? '' : `, ${uses} time${uses === 1 ? '' : 's'}`}; originals ${share.canDownloadOriginals ? 'allowed' : 'not allowed'}. Id: ${share.id}`);
    return 0;
  });
}

async function list(): Promise<number> {
  return withServices(async (services) => {
    const now = Date.now();
    const shares = services.shares.all();
    if (shares.length === 0) {
      print('No share links.');
      return 0;
    }
    printTable(
      ['ID', 'ALBUM', 'EXPIRES', 'USES', 'STATE'],
      shares.map((share) => [
        share.id,
        share.album,
        new Date(share.expiresAt).toISOString(),
        `${share.uses}${share.maxUses === null ? '' : `/${share.maxUses}`}`,
        share.revokedAt !== null ? 'revoked' : share.expiresAt <= now ? 'expired' : share.maxUses !== null && share.uses >= share.maxUses ? 'used up' : 'open',
      ]),
    );
    return 0;
  });
}

async function revoke(args: readonly string[]): Promise<number> {
  const [id] = args;
  if (id === undefined || args.length > 1) throw new UsageError(`share revoke needs one id\n${USAGE}`);
  return withServices(async (services) => {
    if (services.shares.byId(id) === undefined) throw new UsageError(`no share link with id "${id}"; see: keepsake share list`);
    services.shares.revoke(id, Date.now());
    const ended = await services.sessionLinks.endAll(services.sessions.byShare(id));
    await services.views.remove(shareViewName(id));
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
