import { inTransaction, type PgPool } from './postgres-database.js';

/** One change every node must follow (its token links, its views, its catalogue), in the order of their ids. */
export interface LinkEvent {
  readonly id: number;
  /** 'catalogue': the leading node wrote the catalogue rows at `paths` (catalogue-sync.ts). An older 'paths' event is ignored. */
  readonly kind: 'link' | 'unlink' | 'views' | 'catalogue' | 'paths';
  readonly token: string | null;
  readonly view: string | null;
  /** For 'catalogue': the paths written, relative to the media root. */
  readonly paths?: readonly string[] | null;
}

/** What a node's web root must hold, read in one snapshot with the last event it accounts for. */
export interface LinkSnapshot {
  readonly lastEventId: number;
  /** Every session's token, pending or active: a link with any other token-shaped name is an orphan. */
  readonly tokens: ReadonlySet<string>;
  /** Active, unexpired sessions: each must have its link. */
  readonly active: ReadonlyArray<{ readonly token: string; readonly view: string }>;
}

export interface LinkEventStore {
  /** Events after `id`, oldest first, at most `limit`. */
  after(id: number, limit: number): Promise<LinkEvent[]>;
  /** The sessions and the last event id as of one moment (REPEATABLE READ). */
  snapshot(now: number): Promise<LinkSnapshot>;
  /** Deletes events made before `before`; a node away longer than that reconciles from a snapshot. */
  prune(before: number): Promise<number>;
}

/** The outbox of links and views (postgres-migrations.ts fills it by triggers). */
export function createLinkEventStore(pool: PgPool): LinkEventStore {
  return {
    async after(id, limit) {
      const { rows } = await pool.query<Omit<LinkEvent, 'paths'> & { paths: string | null }>('SELECT id, kind, token, view, paths FROM link_events WHERE id > $1 ORDER BY id LIMIT $2', [id, limit]);
      return rows.map((row) => ({ ...row, paths: row.paths === null ? null : (JSON.parse(row.paths) as string[]) }));
    },
    snapshot(now) {
      return inTransaction(
        pool,
        async (client) => {
          const last = await client.query<{ id: number | null }>('SELECT max(id) AS id FROM link_events');
          const tokens = await client.query<{ token: string }>('SELECT token FROM sessions');
          const active = await client.query<{ token: string; view: string }>("SELECT token, view FROM sessions WHERE state = 'active' AND expires_at > $1", [now]);
          return { lastEventId: last.rows[0]?.id ?? 0, tokens: new Set(tokens.rows.map((row) => row.token)), active: active.rows };
        },
        'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      );
    },
    async prune(before) {
      return (await pool.query('DELETE FROM link_events WHERE made_at < $1', [before])).rowCount ?? 0;
    },
  };
}
