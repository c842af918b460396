import { print, withServices } from './context.js';

export async function sweepCommand(): Promise<number> {
  return withServices(async (services) => {
    const { expired, orphans } = await services.access.sweep();
    print(`Swept ${expired} expired session${expired === 1 ? '' : 's'} and ${orphans} orphan link${orphans === 1 ? '' : 's'}.`);
    return 0;
  });
}
