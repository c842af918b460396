import { shortToken } from '../media-contract.js';
import { receiptLines, receiptSentence } from '../receipts/index.js';
import { print, printTable, UsageError, withServices } from './context.js';

const USAGE = `Usage:
  keepsake sessions                       list live sessions
  keepsake sessions show <token|label|device>  what they fetched: albums, photos, originals, addresses, when
  keepsake sessions revoke <token|label>  end them and remove their links, saying what they fetched`;

function ago(time: number, now: number): string {
  const minutes = Math.round((now - time) / 60_000);
  return minutes < 60 ? `${minutes}m ago` : `${Math.round(minutes / 60)}h ago`;
}

async function list(): Promise<number> {
  return withServices(async (services) => {
    const now = Date.now();
    const live = await services.access.liveSessions();
    if (live.length === 0) {
      print('No live sessions.');
      return 0;
    }
    printTable(
      ['TOKEN', 'LABEL', 'STARTED', 'EXPIRES'],
      live.map((session) => [shortToken(session.token), session.label, ago(session.createdAt, now), new Date(session.expiresAt).toISOString()]),
    );
    print(`\n${live.length} live session${live.length === 1 ? '' : 's'}. Tokens are shortened; revoke by full token or by label.`);
    return 0;
  });
}

async function show(args: readonly string[]): Promise<number> {
  const [target] = args;
  if (target === undefined || args.length > 1) throw new UsageError(`sessions show needs one token or label\n${USAGE}`);
  return withServices(async (services) => {
    const receipts = await services.access.receiptsOf(target);
    if (receipts.length === 0) {
      print(`No receipt for "${target}": no session of that token or label has fetched anything (or its receipt has been pruned).`);
      return 1;
    }
    for (const { receipt, live } of receipts) for (const line of receiptLines(receipt, live)) print(line);
    return 0;
  });
}

async function revoke(args: readonly string[]): Promise<number> {
  const [target] = args;
  if (target === undefined || args.length > 1) throw new UsageError(`sessions revoke needs one token or label\n${USAGE}`);
  return withServices(async (services) => {
    const before = (await services.access.receiptsOf(target).catch(() => [])).filter((entry) => entry.live);
    const ended = await services.access.revokeSessions(target);
    print(`Ended ${ended} session${ended === 1 ? '' : 's'}; their links are gone.`);
    for (const { receipt } of before) print(`  ${receipt.label} (token ${shortToken(receipt.token)}) ${receiptSentence(receipt)}.`);
    return 0;
  });
}

export async function sessionsCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'list') return list();
  if (sub === 'show') return show(rest);
  if (sub === 'revoke') return revoke(rest);
  throw new UsageError(USAGE);
}
