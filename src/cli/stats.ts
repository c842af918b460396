import { parseArgs } from 'node:util';
import ms from 'ms';
import { createRefusalsTable } from '../store/index.js';
import { print, printTable, UsageError, withServices } from './context.js';

/** `keepsake stats [--since 24h]`: refused requests by policy over the last day (or --since). */
export async function statsCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { since: { type: 'string', default: '24h' } } });
  const window = ms(values.since as ms.StringValue);
  if (typeof window !== 'number' || window <= 0) throw new UsageError(`--since ${JSON.stringify(values.since)}: expected a duration such as 24h or 7d`);
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
