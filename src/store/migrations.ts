/** Schema steps, applied in order; `PRAGMA user_version` records how many have run. Append only. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE keys (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    albums TEXT NOT NULL,
    can_download_originals INTEGER NOT NULL,
    expires_at INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE sessions (
    sid TEXT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    key_id INTEGER REFERENCES keys(id) ON DELETE CASCADE,
    share_id TEXT,
    label TEXT NOT NULL,
    albums TEXT NOT NULL,
    can_download_originals INTEGER NOT NULL,
    view TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_age INTEGER NOT NULL,
    expires_cap INTEGER
  );
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  CREATE INDEX sessions_by_key ON sessions(key_id);
  CREATE INDEX sessions_by_share ON sessions(share_id);
  `,
  `
  CREATE TABLE albums (
    path TEXT PRIMARY KEY,
    parent TEXT NOT NULL,
    name TEXT NOT NULL
  );
  CREATE INDEX albums_by_parent ON albums(parent);
  CREATE TABLE media (
    album_path TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('image', 'video')),
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    taken_at INTEGER NOT NULL,
    PRIMARY KEY (album_path, name)
  );
  CREATE INDEX media_by_album_taken ON media(album_path, taken_at);
  CREATE TABLE skipped_files (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE shares (
    id TEXT PRIMARY KEY,
    album TEXT NOT NULL,
    can_download_originals INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  `,
  `
  CREATE TABLE refusals (
    minute INTEGER NOT NULL,
    policy TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (minute, policy)
  ) WITHOUT ROWID;
  `,
  `
  -- Where an album really is (relative to the media root): the grant is decided on it too, so an
  -- album reached through a link shows only to keys that grant its real place. NULL until known.
  ALTER TABLE albums ADD COLUMN real_path TEXT;
  `,
  `
  -- A key's lookup tag: scrypt of its password under a site-wide salt, so a login hashes twice
  -- however many keys there are (tag, then the key's own hash), and no two keys share a password.
  -- NULL for keys made before tags: such a key gets its tag at its next login.
  ALTER TABLE keys ADD COLUMN lookup_tag TEXT;
  CREATE UNIQUE INDEX keys_by_lookup_tag ON keys(lookup_tag) WHERE lookup_tag IS NOT NULL;
  `,
  `
  -- A video's length in ms, from ffprobe; 0 when it could not be read; NULL when it was never
  -- probed (ffprobe missing, or catalogued before keepsake probed videos): read again once it can be.
  ALTER TABLE media ADD COLUMN duration_ms INTEGER;
  `,
  `
  -- A Motion Photo's appended MP4: its length in bytes, at the end of the file; NULL for any
  -- other photo (and for photos catalogued before keepsake looked, until they change).
  ALTER TABLE media ADD COLUMN motion_bytes INTEGER;
  `,
  `
  -- Exposure receipts: what each session fetched (never the bytes), kept a while after it ends.
  -- One row per session, one per photo it fetched (capped), one per address it came from (capped).
  CREATE TABLE receipts (
    sid TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    label TEXT NOT NULL,
    key_id INTEGER,
    share_id TEXT,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    -- Photos and addresses beyond the caps: counted, not named.
    photos_beyond INTEGER NOT NULL DEFAULT 0,
    addresses_beyond INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX receipts_by_token ON receipts(token);
  CREATE INDEX receipts_by_label ON receipts(label);
  CREATE INDEX receipts_by_share ON receipts(share_id) WHERE share_id IS NOT NULL;
  CREATE INDEX receipts_by_last_seen ON receipts(last_seen);
  CREATE TABLE receipt_photos (
    sid TEXT NOT NULL REFERENCES receipts(sid) ON DELETE CASCADE,
    album_path TEXT NOT NULL,
    name TEXT NOT NULL,
    original INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sid, album_path, name)
  ) WITHOUT ROWID;
  CREATE TABLE receipt_addresses (
    sid TEXT NOT NULL REFERENCES receipts(sid) ON DELETE CASCADE,
    address TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (sid, address)
  ) WITHOUT ROWID;
  `,
  `
  -- Places: where a photo was taken (from its EXIF GPS, a video's ISO 6709 tag), for keys whose
  -- location policy allows them; never in any image's bytes. A key's policy and whether it is
  -- household (only household keys may have exact places); a session carries its key's policy.
  ALTER TABLE media ADD COLUMN latitude REAL;
  ALTER TABLE media ADD COLUMN longitude REAL;
  ALTER TABLE keys ADD COLUMN location TEXT NOT NULL DEFAULT 'none';
  ALTER TABLE keys ADD COLUMN household INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN location TEXT NOT NULL DEFAULT 'none';
  `,
  `
  -- Named devices: a key made for one device, entered once through an enrolment link. The link's
  -- code is kept only as its SHA-256; a second use finds used_at set. A visitor may also name the
  -- device of a session they logged in with.
  ALTER TABLE keys ADD COLUMN device INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE enrolments (
    code_hash TEXT PRIMARY KEY,
    key_id INTEGER NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  ) WITHOUT ROWID;
  ALTER TABLE sessions ADD COLUMN device_name TEXT;
  `,
  `
  -- The publish gate (KEEPSAKE_PUBLISH=review): an album that appears is catalogued unpublished,
  -- in no key's view, until \`keepsake publish\`. Albums there before the gate are published.
  ALTER TABLE albums ADD COLUMN published INTEGER NOT NULL DEFAULT 1;
  `,
  `
  -- The admin's preview of albums waiting for review (keepsake review --serve): a one-time link,
  -- kept as its SHA-256, and the session it opens, which answers only on the loopback interface.
  CREATE TABLE preview_links (
    code_hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  ) WITHOUT ROWID;
  ALTER TABLE sessions ADD COLUMN preview INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Photo info, placeholders and when an item was added (issue 17). info: the allow-listed EXIF
  -- facts as JSON ('{}' when none; NULL for videos, and for photos catalogued before this step,
  -- whose EXIF the placeholder pass reads again). placeholder: a ThumbHash in base64, made in the
  -- background; '' when none can be made; NULL while to be made (reset when the file changes).
  -- added_at: when the catalogue first saw the path. Rows already here take their mtime (never
  -- later than now), the best guess at when they arrived: the migration's own time would mark
  -- every album as new to every family member at once.
  ALTER TABLE media ADD COLUMN info TEXT;
  ALTER TABLE media ADD COLUMN placeholder TEXT;
  ALTER TABLE media ADD COLUMN added_at INTEGER NOT NULL DEFAULT 0;
  UPDATE media SET added_at = MIN(mtime_ms, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
  CREATE INDEX media_placeholders_due ON media(added_at, album_path, name) WHERE placeholder IS NULL AND type = 'image';
  `,
];
