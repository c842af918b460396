import type { PgPool } from './postgres-database.js';
import type { SessionStore } from './ports.js';
import { sessionFromRow, type SessionRecord, type SessionRow } from './sessions-table.js';

type Link = { sid: string; token: string };

const INSERT = `INSERT INTO sessions (sid, token, key_id, share_id, label, albums, can_download_originals, view, state,
                                      created_at, expires_at, max_age, expires_cap, location, device_name, preview)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12, $13, $14, $15)`;

/*
 * SQLite returns unordered lists in rowid (insertion) order; PostgreSQL's heap order moves a row
 * each time it is updated (activate, setExpiry), so these lists say their order outright, with
 * the sid breaking ties in created_at.
 */
const LIVE = "state = 'active' AND expires_at > $1";
const BY_CREATION = 'ORDER BY created_at, sid';

/**
 * Deletes and returns in one statement. SKIP LOCKED: two nodes sweeping at once split the expired
 * rows between them instead of one waiting on the other's and both reporting the same links.
 */
const DELETE_EXPIRED = `DELETE FROM sessions WHERE sid IN (
    SELECT sid FROM sessions WHERE state = 'active' AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
  ) RETURNING sid, token`;

/** The `sessions` table over PostgreSQL, as sessions-table.ts has it over SQLite. */
export function createPostgresSessions(pool: PgPool): SessionStore {
  const changed = async (text: string, values: unknown[]): Promise<boolean> => ((await pool.query(text, values)).rowCount ?? 0) > 0;
  const many = async (text: string, values: unknown[]): Promise<SessionRecord[]> => (await pool.query<SessionRow>(text, values)).rows.map(sessionFromRow);
  const one = async (text: string, values: unknown[]): Promise<SessionRecord | undefined> => (await many(text, values))[0];
  const links = async (text: string, values: unknown[]): Promise<Link[]> => (await pool.query<Link>(text, values)).rows;
  const tokens = async (text: string): Promise<Set<string>> => new Set((await pool.query<{ token: string }>(text)).rows.map((row) => row.token));

  return {
    async insertPending(session) {
      await pool.query(INSERT, [
        session.sid, session.token, session.keyId, session.shareId, session.label, JSON.stringify(session.albums), session.canDownloadOriginals, session.view,
        session.createdAt, session.expiresAt, session.maxAge, session.expiresCap, session.location, session.deviceName ?? null, session.preview === true,
      ]);
    },
    activate: (sid) => changed("UPDATE sessions SET state = 'active' WHERE sid = $1 AND state = 'pending'", [sid]),
    findLive: (sid, now) => one(`SELECT * FROM sessions WHERE ${LIVE} AND sid = $2`, [now, sid]),
    bySid: (sid) => one('SELECT * FROM sessions WHERE sid = $1', [sid]),
    byToken: (token) => one('SELECT * FROM sessions WHERE token = $1', [token]),
    live: (now) => many(`SELECT * FROM sessions WHERE ${LIVE} ${BY_CREATION}`, [now]),
    byKey: (keyId) => many(`SELECT * FROM sessions WHERE key_id = $1 ${BY_CREATION}`, [keyId]),
    byLabel: (label) => many(`SELECT * FROM sessions WHERE label = $1 ${BY_CREATION}`, [label]),
    byShare: (shareId) => many(`SELECT * FROM sessions WHERE share_id = $1 ${BY_CREATION}`, [shareId]),
    // Pending rows are a login in flight or a crash's leftover; stalePending() handles them.
    expired: (now, limit) => links("SELECT sid, token FROM sessions WHERE state = 'active' AND expires_at <= $1 LIMIT $2", [now, limit]),
    deleteExpired: (now, limit) => links(DELETE_EXPIRED, [now, limit]),
    stalePending: (createdBefore) => links("SELECT sid, token FROM sessions WHERE state = 'pending' AND created_at <= $1", [createdBefore]),
    tokens: () => tokens('SELECT token FROM sessions'),
    activeTokens: () => tokens("SELECT token FROM sessions WHERE state = 'active'"),
    setExpiry: (sid, expiresAt) => changed("UPDATE sessions SET expires_at = $1 WHERE sid = $2 AND state = 'active'", [expiresAt, sid]),
    delete: (sid) => changed('DELETE FROM sessions WHERE sid = $1', [sid]),
    // One statement is one transaction: all the rows go, or none.
    async deleteMany(sids) {
      await pool.query('DELETE FROM sessions WHERE sid = ANY($1::text[])', [[...sids]]);
    },
    setDeviceName: (sid, name) => changed("UPDATE sessions SET device_name = $1 WHERE sid = $2 AND state = 'active'", [name, sid]),
    named: (now) => many(`SELECT * FROM sessions WHERE ${LIVE} AND device_name IS NOT NULL ORDER BY device_name, created_at, sid`, [now]),
  };
}
