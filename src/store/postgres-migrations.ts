/*
 * Append only, like migrations.ts; a step runs once, in a transaction, under an advisory lock
 * (migratePostgres in postgres-database.ts), and `schema_migrations` records it.
 *
 * Tables and columns are named as SQLite's, so one reading of the schema serves both engines.
 * Times are epoch milliseconds in BIGINT; albums are JSON text, as in SQLite, so a record
 * round-trips byte for byte. Text that is sorted (labels, device names, album paths) compares
 * byte-wise (COLLATE "C"), as SQLite's BINARY does, whatever locale the cluster was made with:
 * otherwise `keys.all()` would list "alice" before "Bob" on one engine and after it on the other.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE keys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    lookup_tag TEXT,
    albums TEXT NOT NULL,
    can_download_originals BOOLEAN NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    location TEXT NOT NULL DEFAULT 'none',
    household BOOLEAN NOT NULL DEFAULT FALSE,
    device BOOLEAN NOT NULL DEFAULT FALSE
  );
  CREATE UNIQUE INDEX keys_by_lookup_tag ON keys(lookup_tag) WHERE lookup_tag IS NOT NULL;

  CREATE TABLE sessions (
    sid TEXT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    key_id BIGINT REFERENCES keys(id) ON DELETE CASCADE,
    share_id TEXT,
    label TEXT NOT NULL,
    albums TEXT NOT NULL,
    can_download_originals BOOLEAN NOT NULL,
    view TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    max_age BIGINT NOT NULL,
    expires_cap BIGINT,
    location TEXT NOT NULL DEFAULT 'none',
    device_name TEXT COLLATE "C",
    preview BOOLEAN NOT NULL DEFAULT FALSE
  );
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  CREATE INDEX sessions_by_key ON sessions(key_id);
  CREATE INDEX sessions_by_share ON sessions(share_id);

  CREATE TABLE shares (
    id TEXT PRIMARY KEY,
    album TEXT NOT NULL,
    can_download_originals BOOLEAN NOT NULL,
    expires_at BIGINT NOT NULL,
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );

  -- Exposure receipts: what each session fetched (never the bytes), kept a while after it ends.
  CREATE TABLE receipts (
    sid TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    label TEXT NOT NULL,
    key_id BIGINT,
    share_id TEXT,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    -- Photos and addresses beyond the caps: counted, not named.
    photos_beyond BIGINT NOT NULL DEFAULT 0,
    addresses_beyond BIGINT NOT NULL DEFAULT 0
  );
  CREATE INDEX receipts_by_token ON receipts(token);
  CREATE INDEX receipts_by_label ON receipts(label);
  CREATE INDEX receipts_by_share ON receipts(share_id) WHERE share_id IS NOT NULL;
  CREATE INDEX receipts_by_last_seen ON receipts(last_seen);
  CREATE TABLE receipt_photos (
    sid TEXT NOT NULL REFERENCES receipts(sid) ON DELETE CASCADE,
    album_path TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    original BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (sid, album_path, name)
  );
  CREATE TABLE receipt_addresses (
    sid TEXT NOT NULL REFERENCES receipts(sid) ON DELETE CASCADE,
    address TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (sid, address)
  );

  CREATE TABLE enrolments (
    code_hash TEXT PRIMARY KEY,
    key_id BIGINT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
  );
  -- PostgreSQL does not index a referencing column by itself: without this, removing a key
  -- (and listing its cards) reads the whole table.
  CREATE INDEX enrolments_by_key ON enrolments(key_id);

  CREATE TABLE preview_links (
    code_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
  );
  `,
  `
  -- Several nodes (issue 19). secrets: made once by whichever node starts first, read by every
  -- other, so any node (and its nginx) accepts any node's cookies and links.
  -- link_events: the transactional outbox of token links. Triggers add a row in the same
  -- transaction as the change (a login made active, a session deleted by logout, expiry, revoke or
  -- a key's removal, a change to a key or share), so an event exists exactly when its change
  -- committed; pg_notify wakes every node at commit, and a node that missed it replays by id.
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE link_events (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('link', 'unlink', 'views')),
    token TEXT,
    view TEXT,
    made_at BIGINT NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT
  );
  CREATE INDEX link_events_by_time ON link_events(made_at);
  CREATE FUNCTION keepsake_session_link_event() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'UPDATE' THEN
      IF NEW.state = 'active' AND OLD.state = 'pending' THEN
        INSERT INTO link_events (kind, token, view) VALUES ('link', NEW.token, NEW.view);
        PERFORM pg_notify('keepsake_links', '');
      END IF;
    ELSE
      INSERT INTO link_events (kind, token, view) VALUES ('unlink', OLD.token, OLD.view);
      PERFORM pg_notify('keepsake_links', '');
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER sessions_link_events AFTER UPDATE OF state OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION keepsake_session_link_event();
  CREATE FUNCTION keepsake_grant_view_event() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO link_events (kind) VALUES ('views');
    PERFORM pg_notify('keepsake_links', '');
    RETURN NULL;
  END $$;
  CREATE TRIGGER keys_view_events AFTER INSERT OR DELETE OR UPDATE OF albums, can_download_originals ON keys
    FOR EACH STATEMENT EXECUTE FUNCTION keepsake_grant_view_event();
  CREATE TRIGGER shares_view_events AFTER INSERT OR DELETE OR UPDATE OF revoked_at, expires_at ON shares
    FOR EACH STATEMENT EXECUTE FUNCTION keepsake_grant_view_event();
  -- The guard's counters (login throttle, media budgets, tripwire strikes), shared by every node:
  -- rate-limiter-flexible's own layout, made here once rather than by each node at start.
  CREATE TABLE rate_limits (
    key VARCHAR(255) PRIMARY KEY,
    points INTEGER NOT NULL DEFAULT 0,
    expire BIGINT
  );
  `,
  `
  -- What the one node that watches the media root saw change (relative paths, as JSON): every
  -- other node looks at those paths again on the shared media root, without a watcher of its own.
  ALTER TABLE link_events DROP CONSTRAINT link_events_kind_check;
  ALTER TABLE link_events ADD CONSTRAINT link_events_kind_check CHECK (kind IN ('link', 'unlink', 'views', 'paths'));
  ALTER TABLE link_events ADD COLUMN paths TEXT;
  `,
  `
  -- The catalogue (issue 19): written by the node that watches the media root, copied by every other
  -- into its own. The same rows as SQLite's albums and media; a 'catalogue' event names the paths
  -- written (each the album or the item at that path), in the transaction that wrote them.
  CREATE TABLE catalogue_albums (
    path TEXT PRIMARY KEY,
    real_path TEXT,
    published BOOLEAN NOT NULL
  );
  CREATE TABLE catalogue_media (
    album_path TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('image', 'video')),
    size BIGINT NOT NULL,
    mtime_ms BIGINT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    taken_at BIGINT NOT NULL,
    duration_ms BIGINT,
    motion_bytes BIGINT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    info TEXT,
    placeholder TEXT,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (album_path, name)
  );
  ALTER TABLE link_events DROP CONSTRAINT link_events_kind_check;
  ALTER TABLE link_events ADD CONSTRAINT link_events_kind_check CHECK (kind IN ('link', 'unlink', 'views', 'paths', 'catalogue'));
  `,
];
