import type { Db } from './database.js';
import type { KeyLocation } from './keys-table.js';

/** A live session as every request sees it: who, what they may see, and until when. */
export interface SessionRecord {
  readonly sid: string;
  readonly token: string;
  readonly keyId: number | null;
  readonly shareId: string | null;
  readonly label: string;
  readonly albums: readonly string[];
  readonly canDownloadOriginals: boolean;
  readonly view: string;
  readonly state: 'pending' | 'active';
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly maxAge: number;
  /** The latest the session may ever last (key or share expiry); renewal never passes it. */
  readonly expiresCap: number | null;
  /** Its key's location policy ('none' for a share link). */
  readonly location: KeyLocation;
  /** What the visitor named the device this session is on ("remember this device as …"), or a device key's name. */
  readonly deviceName: string | null;
  /** The admin's preview of albums waiting for review: sees them, answers only on loopback. */
  readonly preview: boolean;
}

export type NewSessionRecord = Omit<SessionRecord, 'state' | 'deviceName' | 'preview'> & { readonly deviceName?: string | null; readonly preview?: boolean };

/**
 * One statement per batch of the sweep (parameters: now, limit): the rows go and say which links
 * to remove, in one step. Also run by the expiry worker, on its own connection.
 */
export const DELETE_EXPIRED_SQL = `DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE state = 'active' AND expires_at <= ? LIMIT ?)
  RETURNING sid, token`;

/** A `sessions` row as either engine returns it: SQLite's flags are 0 or 1, PostgreSQL's booleans. */
export interface SessionRow {
  sid: string;
  token: string;
  key_id: number | null;
  share_id: string | null;
  label: string;
  albums: string;
  can_download_originals: number | boolean;
  view: string;
  state: 'pending' | 'active';
  created_at: number;
  expires_at: number;
  max_age: number;
  expires_cap: number | null;
  location: KeyLocation;
  device_name: string | null;
  preview: number | boolean;
}

export function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    sid: row.sid,
    token: row.token,
    keyId: row.key_id,
    shareId: row.share_id,
    label: row.label,
    albums: JSON.parse(row.albums) as string[],
    canDownloadOriginals: Boolean(row.can_download_originals),
    view: row.view,
    state: row.state,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    maxAge: row.max_age,
    expiresCap: row.expires_cap,
    location: row.location,
    deviceName: row.device_name,
    preview: Boolean(row.preview),
  };
}

export type SessionsTable = ReturnType<typeof createSessionsTable>;

/** The `sessions` table. Times are absolute epoch milliseconds, so clock arithmetic happens once. */
export function createSessionsTable(db: Db) {
  const insert = db.prepare(
    `INSERT INTO sessions (sid, token, key_id, share_id, label, albums, can_download_originals, view, state,
                           created_at, expires_at, max_age, expires_cap, location, device_name, preview)
     VALUES (@sid, @token, @keyId, @shareId, @label, @albums, @canDownloadOriginals, @view, 'pending',
             @createdAt, @expiresAt, @maxAge, @expiresCap, @location, @deviceName, @preview)`,
  );
  const activate = db.prepare<[string]>("UPDATE sessions SET state = 'active' WHERE sid = ? AND state = 'pending'");
  const selectLive = db.prepare<[string, number], SessionRow>(
    "SELECT * FROM sessions WHERE sid = ? AND state = 'active' AND expires_at > ?",
  );
  const selectBySid = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE sid = ?');
  const selectLiveAll = db.prepare<[number], SessionRow>(
    "SELECT * FROM sessions WHERE state = 'active' AND expires_at > ? ORDER BY created_at",
  );
  const selectByToken = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE token = ?');
  const selectByKey = db.prepare<[number], SessionRow>('SELECT * FROM sessions WHERE key_id = ?');
  const selectByLabel = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE label = ?');
  const selectByShare = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE share_id = ?');
  const selectExpired = db.prepare<[number, number], { sid: string; token: string }>(
    // Pending rows are a login in flight or a crash's leftover; stalePending() handles them.
    "SELECT sid, token FROM sessions WHERE state = 'active' AND expires_at <= ? LIMIT ?",
  );
  const selectStalePending = db.prepare<[number], { sid: string; token: string }>(
    "SELECT sid, token FROM sessions WHERE state = 'pending' AND created_at <= ?",
  );
  const selectTokens = db.prepare<[], { token: string }>('SELECT token FROM sessions');
  const selectActiveTokens = db.prepare<[], { token: string }>("SELECT token FROM sessions WHERE state = 'active'");
  const deleteBySid = db.prepare<[string]>('DELETE FROM sessions WHERE sid = ?');
  const setDeviceName = db.prepare<[string | null, string]>("UPDATE sessions SET device_name = ? WHERE sid = ? AND state = 'active'");
  const selectNamed = db.prepare<[number], SessionRow>("SELECT * FROM sessions WHERE state = 'active' AND expires_at > ? AND device_name IS NOT NULL ORDER BY device_name");
  const updateExpiry = db.prepare<[number, string]>(
    "UPDATE sessions SET expires_at = ? WHERE sid = ? AND state = 'active'",
  );

  const deleteExpired = db.prepare<[number, number], { sid: string; token: string }>(DELETE_EXPIRED_SQL);

  const deleteMany = db.transaction((sids: readonly string[]) => {
    for (const sid of sids) deleteBySid.run(sid);
  });

  return {
    insertPending(session: NewSessionRecord): void {
      insert.run({
        ...session,
        albums: JSON.stringify(session.albums),
        canDownloadOriginals: session.canDownloadOriginals ? 1 : 0,
        deviceName: session.deviceName ?? null,
        preview: session.preview === true ? 1 : 0,
      });
    },
    setDeviceName: (sid: string, name: string | null): boolean => setDeviceName.run(name, sid).changes > 0,
    named: (now: number): SessionRecord[] => selectNamed.all(now).map(sessionFromRow),
    activate: (sid: string): boolean => activate.run(sid).changes > 0,
    /** The session behind a cookie, only while active and unexpired at `now`. */
    findLive(sid: string, now: number): SessionRecord | undefined {
      const row = selectLive.get(sid, now);
      return row === undefined ? undefined : sessionFromRow(row);
    },
    bySid(sid: string): SessionRecord | undefined {
      const row = selectBySid.get(sid);
      return row === undefined ? undefined : sessionFromRow(row);
    },
    byToken(token: string): SessionRecord | undefined {
      const row = selectByToken.get(token);
      return row === undefined ? undefined : sessionFromRow(row);
    },
    live: (now: number): SessionRecord[] => selectLiveAll.all(now).map(sessionFromRow),
    byKey: (keyId: number): SessionRecord[] => selectByKey.all(keyId).map(sessionFromRow),
    byLabel: (label: string): SessionRecord[] => selectByLabel.all(label).map(sessionFromRow),
    byShare: (shareId: string): SessionRecord[] => selectByShare.all(shareId).map(sessionFromRow),
    expired: (now: number, limit: number) => selectExpired.all(now, limit),
    deleteExpired: (now: number, limit: number) => deleteExpired.all(now, limit),
    stalePending: (createdBefore: number) => selectStalePending.all(createdBefore),
    tokens: (): Set<string> => new Set(selectTokens.all().map((row) => row.token)),
    activeTokens: (): Set<string> => new Set(selectActiveTokens.all().map((row) => row.token)),
    setExpiry: (sid: string, expiresAt: number): boolean => updateExpiry.run(expiresAt, sid).changes > 0,
    delete: (sid: string): boolean => deleteBySid.run(sid).changes > 0,
    deleteMany: (sids: readonly string[]): void => deleteMany(sids),
  };
}
