import { createRefusalsTable } from '../store/index.js';
import { parseDuration, parseOptions } from './arguments.js';
import { print, printTable, withServices } from './context.js';

/** `keepsake stats [--since 24h]`: refused requests by policy over the last day (or --since). */
export async function statsCommand(args: readonly string[]): Promise<number> {
  const { values } = parseOptions({ args: [...args], options: { since: { type: 'string', default: '24h' } } });
  const window = parseDuration('--since', values.since);
  return withServices(async (services) => {
    const rows = createRefusalsTable(services.db).summary(Date.now() - window);
    const live = (await services.access.liveSessions()).length;
    print(`Live sessions: ${live}`);
    if (rows.length === 0) {
      print(`No refused requests in the last ${values.since}.`);
      return 0;
    }
    print(`Refused requests in the last ${values.since}:`);
    printTable(['POLICY', 'REFUSED'], rows.map((row) => [row.policy, String(row.count)]));
    return 0;
  });
}
