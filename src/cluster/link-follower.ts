import type pg from 'pg';
import { createTokenLink, hasTokenLink, listTokenLinks, removeTokenLinks, type Views } from '../links/index.js';
import type { Logger } from '../log.js';
import { shortToken } from '../media-contract.js';
import type { LinkEvent, LinkEventStore } from '../store/index.js';

/*
 * Every node's web root follows the sessions in the shared database. A login, logout, revoke,
 * expiry or key removal on any node commits a row to the outbox (link_events) and a NOTIFY; each
 * node applies the events in id order. A NOTIFY can be lost while a node is away, so a node that
 * (re)connects reconciles from a snapshot and then replays what came after it.
 *
 * Fail closed: a node that cannot reach the database for longer than `failClosedAfterMs` removes
 * its token links (every session it serves may have ended elsewhere meanwhile) and says it is not
 * serving; it reconciles and serves again once the database answers.
 */

export const LINK_CHANNEL = 'keepsake_links';

/** How often the database is asked whether it is there, over the listening connection. */
const HEARTBEAT_MS = 500;
/** A heartbeat unanswered for this long counts as a lost database (a cut network sends no error). */
const HEARTBEAT_TIMEOUT_MS = 1_500;
/** Ids are taken at insert, committed in any order: a gap younger than this may still fill. */
const GAP_PATIENCE_MS = 2_000;
const BATCH = 1_000;

export interface LinkFollowerOptions {
  /** A new connection for LISTEN (one per attempt). */
  readonly connect: () => pg.Client;
  readonly events: LinkEventStore;
  readonly webRoot: string;
  readonly views: Pick<Views, 'dirOf' | 'exists'>;
  /** Brings every view in line with the keys and shares (a 'views' event, or a link to a view not made yet). */
  readonly syncViews: () => Promise<void>;
  readonly failClosedAfterMs: number;
  /** Paths of the catalogue the leader wrote ('catalogue' events): this node copies them (catalogue-sync.ts). */
  readonly catalogueChanged?: (relativePaths: readonly string[]) => Promise<void>;
  /** After each (re)connect, once the web root is reconciled: what else must be brought in line (not awaited). */
  readonly onConnected?: () => Promise<void>;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface LinkFollower {
  /** First reconcile and LISTEN; rejects when the database cannot be reached at start. */
  start(): Promise<void>;
  /** False while the node has been cut off from the database for too long: media must not be served. */
  isServing(): boolean;
  /** Reconciles the web root against the database now (the sweeper calls it too: a safety net for anything missed). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

export function createLinkFollower(options: LinkFollowerOptions): LinkFollower {
  const { events, webRoot, views, log } = options;
  const now = options.now ?? Date.now;
  let lastApplied = 0;
  /** Ids missing below the ones applied, with when they were first seen missing. */
  const gaps = new Map<number, number>();
  let client: pg.Client | undefined;
  let connected = false;
  let lostAt: number | undefined;
  let closed = false;
  let stopped = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let queue: Promise<void> = Promise.resolve();

  /** Every change to the web root runs in this one line: a snapshot and the events after it never interleave. */
  function serially(work: () => Promise<void>): Promise<void> {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  }

  async function link(token: string, view: string): Promise<void> {
    // Cut off from the database, a node makes no link: it cannot know the session still lives.
    if (closed || hasTokenLink(webRoot, token)) return;
    if (!(await views.exists(view))) await options.syncViews();
    try {
      await createTokenLink(webRoot, token, views.dirOf(view));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }

  async function unlink(tokens: readonly string[]): Promise<void> {
    for (const { token, error } of await removeTokenLinks(webRoot, tokens)) {
      log.error({ err: error, token: shortToken(token) }, 'could not remove a token link; the next reconcile retries');
    }
  }

  /** Applies a batch: for each token only its latest event, so a batch re-read after a gap never relinks, even for a moment, a session it ends. */
  async function apply(batch: readonly LinkEvent[]): Promise<void> {
    const latest = new Map<string, LinkEvent>();
    for (const event of batch) if (event.token !== null) latest.set(event.token, event);
    let viewsChanged = false;
    const paths = new Set<string>();
    for (const event of batch) {
      if (event.kind === 'views') viewsChanged = true;
      else if (event.kind === 'catalogue') for (const each of event.paths ?? []) paths.add(each);
      else if (event.token === null || latest.get(event.token) !== event) continue;
      else if (event.kind === 'unlink') await unlink([event.token]);
      else if (event.kind === 'link' && event.view !== null) {
        if (viewsChanged) {
          await options.syncViews();
          viewsChanged = false;
        }
        await link(event.token, event.view);
      }
    }
    if (viewsChanged) await options.syncViews();
    // Not awaited: copying a dropped album's rows may take a while, and links must not wait for it.
    if (paths.size > 0) void options.catalogueChanged?.([...paths]).catch((error: unknown) => log.error({ err: error }, 'could not copy the catalogue changes of the leading node'));
  }

  /**
   * Moves `lastApplied` past the batch, noting the ids it skipped: a transaction that took an id
   * earlier may commit later. Ids already applied (re-read after a gap) only close their gap.
   */
  function advance(batch: readonly LinkEvent[]): void {
    for (const event of batch) {
      if (event.id <= lastApplied) {
        gaps.delete(event.id);
        continue;
      }
      // A hole wider than a batch is a rolled-back sweep, not a commit in flight; the next reconcile covers the rest.
      for (let missing = Math.max(lastApplied + 1, event.id - BATCH); missing < event.id; missing += 1) if (!gaps.has(missing)) gaps.set(missing, now());
      lastApplied = event.id;
    }
    // A gap that stayed empty this long was a transaction that rolled back: forget it.
    for (const [id, seenAt] of gaps) if (now() - seenAt > GAP_PATIENCE_MS) gaps.delete(id);
  }

  /** Applies the events after the oldest open gap (again, in order: applying is idempotent), or after the last applied. */
  function catchUp(): Promise<void> {
    return serially(async () => {
      let from = gaps.size === 0 ? lastApplied : Math.min(...gaps.keys()) - 1;
      for (;;) {
        const batch = await events.after(from, BATCH);
        await apply(batch);
        advance(batch);
        if (batch.length < BATCH) return;
        from = batch.at(-1)!.id;
      }
    });
  }

  /** Makes the web root exactly the database's active sessions, as of a snapshot; events after it follow. */
  function reconcile(): Promise<void> {
    return serially(async () => {
      const listed = await listTokenLinks(webRoot);
      const snapshot = await events.snapshot(now());
      await options.syncViews();
      const orphans = listed.filter((token) => !snapshot.tokens.has(token));
      await unlink(orphans);
      const present = new Set(listed);
      let added = 0;
      for (const session of snapshot.active) {
        if (present.has(session.token)) continue;
        await link(session.token, session.view);
        added += 1;
      }
      lastApplied = snapshot.lastEventId;
      gaps.clear();
      if (orphans.length + added > 0) log.info({ removed: orphans.length, added }, 'web root reconciled with the database');
    });
  }

  async function failClosed(): Promise<void> {
    if (closed) return;
    closed = true;
    log.error({ afterMs: options.failClosedAfterMs }, 'the database is unreachable: removing every token link and refusing media until it is back');
    // Not behind the line of work: that may be waiting on the database that is gone.
    await unlink(await listTokenLinks(webRoot));
  }

  function lost(error: unknown): void {
    if (!connected && lostAt !== undefined) return;
    connected = false;
    lostAt ??= now();
    clearInterval(heartbeat);
    const dying = client;
    client = undefined;
    dying?.removeAllListeners('notification');
    void dying?.end().catch(() => undefined);
    if (stopped) return;
    log.warn({ err: error }, 'lost the database connection; reconnecting');
    scheduleRetry();
  }

  function scheduleRetry(): void {
    clearTimeout(retry);
    retry = setTimeout(() => {
      if (lostAt !== undefined && now() - lostAt > options.failClosedAfterMs) void failClosed().catch((error: unknown) => log.error({ err: error }, 'could not remove token links'));
      void connect().catch((error: unknown) => {
        log.debug({ err: error }, 'database still unreachable');
        scheduleRetry();
      });
    }, 500);
  }

  async function connect(): Promise<void> {
    const next = options.connect();
    next.on('error', (error) => lost(error));
    next.on('end', () => lost(new Error('the listening connection ended')));
    await next.connect();
    next.on('notification', () => void catchUp().catch((error: unknown) => log.error({ err: error }, 'could not apply link events')));
    await next.query(`LISTEN ${LINK_CHANNEL}`);
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
    closed = false;
    // LISTEN first, then the snapshot: nothing committed after the snapshot goes unheard.
    await reconcile();
    await catchUp();
    connected = true;
    if (lostAt !== undefined) log.info({ awayMs: now() - lostAt }, 'database reachable again; web root reconciled');
    lostAt = undefined;
    heartbeat = setInterval(() => beat(next), HEARTBEAT_MS);
    void options.onConnected?.().catch((error: unknown) => log.error({ err: error }, 'could not bring this node in line after connecting'));
  }

  function beat(connection: pg.Client): void {
    const timeout = setTimeout(() => lost(new Error('the database did not answer a heartbeat')), HEARTBEAT_TIMEOUT_MS);
    connection.query('SELECT 1').then(
      () => clearTimeout(timeout),
      (error: unknown) => {
        clearTimeout(timeout);
        lost(error);
      },
    );
  }

  return {
    async start() {
      await connect();
    },
    isServing: () => !closed && (connected || lostAt === undefined || now() - lostAt <= options.failClosedAfterMs),
    async reconcile() {
      if (connected) await reconcile();
    },
    async stop() {
      stopped = true;
      clearInterval(heartbeat);
      clearTimeout(retry);
      const last = client;
      client = undefined;
      connected = false;
      await queue;
      await last?.end().catch(() => undefined);
    },
  };
}
