import type pg from 'pg';
import type { Logger } from '../log.js';

/*
 * One node at a time does the work that must not run twice (watching the media root, the expiry
 * sweep): the one holding a PostgreSQL advisory lock on its own connection. The database releases
 * the lock the moment that connection ends (the node dies, or is cut off), and another node's next
 * try takes it.
 */

/** The lock's number: "sweep" in ASCII. */
export const LEADER_LOCK = 0x73_77_65_65_70;
const TRY_EVERY_MS = 1_000;

export interface Leadership {
  isLeader(): boolean;
  /** Settles once the first try to take the lock is over, taken or not. */
  readonly decided: Promise<void>;
  stop(): Promise<void>;
}

export function startLeadership(options: { connect: () => pg.Client; log: Logger; onChange?: (leader: boolean) => void }): Leadership {
  const { log } = options;
  let client: pg.Client | undefined;
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function become(next: boolean): void {
    if (next === leader) return;
    leader = next;
    log.info(next ? 'this node now leads (watches the media root, runs the expiry sweep)' : 'this node no longer leads');
    options.onChange?.(next);
  }

  function drop(): void {
    const dying = client;
    client = undefined;
    become(false);
    void dying?.end().catch(() => undefined);
  }

  async function attempt(): Promise<void> {
    if (client === undefined) {
      const next = options.connect();
      next.on('error', drop);
      next.on('end', drop);
      await next.connect();
      client = next;
    }
    if (leader) {
      // Still ours while the connection answers.
      await client.query('SELECT 1');
      return;
    }
    const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1) AS taken', [LEADER_LOCK]);
    become(rows[0]?.taken === true);
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      attempt().then(schedule, (error: unknown) => {
        log.debug({ err: error }, 'leadership check failed');
        drop();
        schedule();
      });
    }, TRY_EVERY_MS);
  }

  const decided = attempt().then(schedule, () => {
    drop();
    schedule();
  });
  return {
    isLeader: () => leader,
    decided,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const last = client;
      client = undefined;
      leader = false;
      await last?.end().catch(() => undefined);
    },
  };
}
