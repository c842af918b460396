import { shortToken } from '../media-contract.js';
import { print, printTable, UsageError, withServices } from './context.js';

const USAGE = `Usage:
  keepsake sessions                       list live sessions
  keepsake sessions revoke <token|label>  end them and remove their links`;

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

async function revoke(args: readonly string[]): Promise<number> {
  const [target] = args;
  if (target === undefined || args.length > 1) throw new UsageError(`sessions revoke needs one token or label\n${USAGE}`);
  return withServices(async (services) => {
    const ended = await services.access.revokeSessions(target);
    print(`Ended ${ended} session${ended === 1 ? '' : 's'}; their links are gone.`);
    return 0;
  });
}

export async function sessionsCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'list') return list();
  if (sub === 'revoke') return revoke(rest);
  throw new UsageError(USAGE);
}
