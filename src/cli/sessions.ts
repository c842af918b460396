import { isToken } from '../links/index.js';
import { labelToken } from '../log.js';
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
    const live = services.sessions.live(now);
    if (live.length === 0) {
      print('No live sessions.');
      return 0;
    }
    printTable(
      ['TOKEN', 'LABEL', 'STARTED', 'EXPIRES'],
      live.map((session) => [labelToken(session.token), session.label, ago(session.createdAt, now), new Date(session.expiresAt).toISOString()]),
    );
    print(`\n${live.length} live session${live.length === 1 ? '' : 's'}. Tokens are shortened; revoke by full token or by label.`);
    return 0;
  });
}

async function revoke(args: readonly string[]): Promise<number> {
  const [target] = args;
  if (target === undefined || args.length > 1) throw new UsageError(`sessions revoke needs one token or label\n${USAGE}`);
  return withServices(async (services) => {
    const byToken = isToken(target) ? services.sessions.byToken(target) : undefined;
    const records = byToken === undefined ? services.sessions.byLabel(target) : [byToken];
    if (records.length === 0) throw new UsageError(`no session with token or label "${target}"; see: keepsake sessions`);
    const ended = await services.sessionLinks.endAll(records);
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
