//! The schema, as numbered migrations. The rules that matter hold in SQLite
//! itself, so a second process or a hand-typed statement cannot break them: the
//! active-key limit of an integration, final statuses, and an append-only history.

/// Marks a SQLite file as a keyward store (`PRAGMA application_id`): "KWRD".
pub const APPLICATION_ID: i32 = 0x4b57_5244;

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// The schema version this build writes.
/// The schema objects the migrations make on an empty database: what
/// `audit verify` holds a store's own against.
pub fn reference_objects() -> rusqlite::Result<Vec<(String, String, Option<String>)>> {
    let conn = rusqlite::Connection::open_in_memory()?;
    super::query_sql::register_fold(&conn)?;
    for sql in MIGRATIONS {
        conn.execute_batch(sql)?;
    }
    super::history::schema_objects(&conn)
}

pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

// Times are Unix seconds (UTC). `changed_at` is the time of the write that made a
// row what it is; the limit triggers judge "expired" against it, so that the rule
// and the service agree on what "now" was, even under an injected clock.
const V1: &str = r#"
CREATE TABLE operators (
    login       TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'viewer')),
    created_at  INTEGER NOT NULL
);

CREATE TABLE instances (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    cloud       TEXT NOT NULL
                CHECK (cloud IN ('salesforce', 'servicenow', 'm365', 'qualtrics', 'other')),
    url         TEXT,
    max_active  INTEGER NOT NULL DEFAULT 2 CHECK (max_active >= 1),
    created_at  INTEGER NOT NULL
);

CREATE TABLE developers (
    id          INTEGER PRIMARY KEY,
    instance_id INTEGER NOT NULL REFERENCES instances(id),
    name        TEXT NOT NULL,
    removed_at  INTEGER,
    UNIQUE (instance_id, name)
);

CREATE TABLE channels (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE
);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE keys (
    id              INTEGER PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    developer_id    INTEGER NOT NULL REFERENCES developers(id),
    channel_id      INTEGER NOT NULL REFERENCES channels(id),
    status          TEXT NOT NULL CHECK (status IN ('active', 'deactivated', 'deleted')),
    secret_hash     TEXT NOT NULL CHECK (secret_hash LIKE '$argon2id$%'),
    tail            TEXT NOT NULL,
    grace_hash      TEXT CHECK (grace_hash IS NULL OR grace_hash LIKE '$argon2id$%'),
    grace_until     INTEGER,
    expires_at      INTEGER,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    changed_at      INTEGER NOT NULL,
    deactivated_at  INTEGER,
    deleted_at      INTEGER,
    last_used_at    INTEGER,
    use_count       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX keys_integration ON keys (instance_id, developer_id, channel_id, status, expires_at);
CREATE INDEX keys_status_expires ON keys (status, expires_at);
CREATE INDEX keys_developer ON keys (developer_id);
CREATE INDEX keys_channel ON keys (channel_id);
CREATE INDEX keys_created ON keys (created_at);
CREATE INDEX keys_last_used ON keys (last_used_at);
CREATE INDEX keys_deactivated ON keys (deactivated_at);
CREATE INDEX keys_name ON keys (name COLLATE NOCASE, id);

CREATE TABLE key_teams (
    key_id      INTEGER NOT NULL REFERENCES keys(id),
    team_id     INTEGER NOT NULL REFERENCES teams(id),
    PRIMARY KEY (key_id, team_id)
) WITHOUT ROWID;
CREATE INDEX key_teams_team ON key_teams (team_id, key_id);

CREATE TABLE history (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    action      TEXT NOT NULL,
    key_id      TEXT,
    masked      TEXT,
    subject     TEXT,
    operator    TEXT,
    email       TEXT,
    login       TEXT NOT NULL,
    host        TEXT NOT NULL,
    sudo_user   TEXT,
    ssh_client  TEXT,
    tty         TEXT,
    details     TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX history_key ON history (key_id, seq);
CREATE INDEX history_action ON history (action, seq);
CREATE INDEX history_login ON history (login, seq);
CREATE INDEX history_at ON history (at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    created_at      INTEGER NOT NULL,
    event           TEXT NOT NULL,
    key_ids         TEXT NOT NULL,
    recipient_login TEXT NOT NULL,
    recipient_name  TEXT NOT NULL,
    recipient_email TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         INTEGER
);
CREATE INDEX outbox_status ON outbox (status, id);

-- History is append-only, and gap-free so that a removed row shows.
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'keyward: the credential history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'keyward: the credential history is append-only'); END;
CREATE TRIGGER history_in_order BEFORE INSERT ON history
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM history)
BEGIN SELECT RAISE(ABORT, 'keyward: history rows are appended in sequence'); END;

-- A store always keeps an admin, so it is never left without anyone to manage it.
CREATE TRIGGER operators_keep_an_admin_on_delete BEFORE DELETE ON operators
WHEN OLD.role = 'admin' AND (SELECT COUNT(*) FROM operators WHERE role = 'admin') <= 1
BEGIN SELECT RAISE(ABORT, 'keyward: the last admin cannot be removed'); END;
CREATE TRIGGER operators_keep_an_admin_on_update BEFORE UPDATE OF role ON operators
WHEN OLD.role = 'admin' AND NEW.role <> 'admin'
 AND (SELECT COUNT(*) FROM operators WHERE role = 'admin') <= 1
BEGIN SELECT RAISE(ABORT, 'keyward: the last admin cannot be removed'); END;

-- Keys are never erased: delete marks them deleted and keeps their history.
CREATE TRIGGER keys_no_delete BEFORE DELETE ON keys
BEGIN SELECT RAISE(ABORT, 'keyward: keys are never erased; delete marks them deleted'); END;

-- Final statuses: deactivated only moves on to deleted; deleted never changes.
CREATE TRIGGER keys_deleted_is_final BEFORE UPDATE ON keys
WHEN OLD.status = 'deleted'
BEGIN SELECT RAISE(ABORT, 'keyward: a deleted key cannot change'); END;
CREATE TRIGGER keys_deactivated_is_final BEFORE UPDATE OF status ON keys
WHEN OLD.status = 'deactivated' AND NEW.status NOT IN ('deactivated', 'deleted')
BEGIN SELECT RAISE(ABORT, 'keyward: a deactivated key cannot be reactivated'); END;

-- The active-key limit of an integration (instance, developer, channel).
CREATE TRIGGER keys_limit_on_insert BEFORE INSERT ON keys
WHEN NEW.status = 'active'
 AND (NEW.expires_at IS NULL OR NEW.expires_at > NEW.changed_at)
 AND (SELECT COUNT(*) FROM keys k
       WHERE k.instance_id = NEW.instance_id AND k.developer_id = NEW.developer_id
         AND k.channel_id = NEW.channel_id AND k.status = 'active'
         AND (k.expires_at IS NULL OR k.expires_at > NEW.changed_at))
     >= (SELECT max_active FROM instances WHERE id = NEW.instance_id)
BEGIN SELECT RAISE(ABORT, 'keyward: active key limit reached'); END;

CREATE TRIGGER keys_limit_on_update
BEFORE UPDATE OF status, expires_at, instance_id, developer_id, channel_id ON keys
WHEN NEW.status = 'active'
 AND (NEW.expires_at IS NULL OR NEW.expires_at > NEW.changed_at)
 AND (OLD.status <> 'active'
      OR (OLD.expires_at IS NOT NULL AND OLD.expires_at <= NEW.changed_at)
      OR OLD.instance_id <> NEW.instance_id
      OR OLD.developer_id <> NEW.developer_id
      OR OLD.channel_id <> NEW.channel_id)
 AND (SELECT COUNT(*) FROM keys k
       WHERE k.id <> NEW.id
         AND k.instance_id = NEW.instance_id AND k.developer_id = NEW.developer_id
         AND k.channel_id = NEW.channel_id AND k.status = 'active'
         AND (k.expires_at IS NULL OR k.expires_at > NEW.changed_at))
     >= (SELECT max_active FROM instances WHERE id = NEW.instance_id)
BEGIN SELECT RAISE(ABORT, 'keyward: active key limit reached'); END;

-- A key's developer belongs to the key's instance.
CREATE TRIGGER keys_developer_of_instance_on_insert BEFORE INSERT ON keys
WHEN (SELECT instance_id FROM developers WHERE id = NEW.developer_id) IS NOT NEW.instance_id
BEGIN SELECT RAISE(ABORT, 'keyward: the developer belongs to another instance'); END;
CREATE TRIGGER keys_developer_of_instance_on_update BEFORE UPDATE OF developer_id, instance_id ON keys
WHEN (SELECT instance_id FROM developers WHERE id = NEW.developer_id) IS NOT NEW.instance_id
BEGIN SELECT RAISE(ABORT, 'keyward: the developer belongs to another instance'); END;
"#;

// What each operator keeps for themselves in the TUI: named filters and screen
// preferences (such as the History tab's columns). Not history: nothing here
// changes a key, a team, an instance or an operator.
const V2: &str = r#"
CREATE TABLE saved_filters (
    id          INTEGER PRIMARY KEY,
    login       TEXT NOT NULL REFERENCES operators(login) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    query       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (login, name)
);

CREATE TABLE preferences (
    login       TEXT NOT NULL REFERENCES operators(login) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (login, name)
) WITHOUT ROWID;
"#;

// Delivery of the outbox (SPEC §5). A message is claimed for a while by the
// process sending it, so two deliverers never send it twice; a failed attempt
// is recorded and retried after a back-off. Messages are never dropped, and
// what a message says never changes after it was written. `expiring` messages
// are the expiry reminders: one per key, threshold and expiry date, which the
// primary key of `reminders` makes so however often and however many
// `notifications send` run.
const V3: &str = r#"
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_attempt_at INTEGER;
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
ALTER TABLE outbox ADD COLUMN claim TEXT;
ALTER TABLE outbox ADD COLUMN via TEXT;
DROP INDEX outbox_status;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);

CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN SELECT RAISE(ABORT, 'keyward: notifications are never dropped from the outbox'); END;
CREATE TRIGGER outbox_message_fixed
BEFORE UPDATE OF created_at, event, key_ids, recipient_login, recipient_name, recipient_email,
                 subject, body ON outbox
BEGIN SELECT RAISE(ABORT, 'keyward: a notification does not change once written'); END;
CREATE TRIGGER outbox_sent_is_final BEFORE UPDATE OF status ON outbox
WHEN OLD.status = 'sent' AND NEW.status <> 'sent'
BEGIN SELECT RAISE(ABORT, 'keyward: a sent notification stays sent'); END;

CREATE TABLE reminders (
    key_id          INTEGER NOT NULL REFERENCES keys(id),
    threshold_days  INTEGER NOT NULL CHECK (threshold_days IN (1, 7, 14)),
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (key_id, threshold_days, expires_at)
) WITHOUT ROWID;
CREATE TRIGGER reminders_no_delete BEFORE DELETE ON reminders
BEGIN SELECT RAISE(ABORT, 'keyward: reminders are a record and are never removed'); END;
"#;

// Speed at scale (100 000 keys). The Keys tab lists every key a filter selects
// in name order; this index holds that order and every column a key filter
// reads, so a listing is one ordered walk of a few megabytes that never
// touches the table (`Db::key_refs` names it). No ANALYZE: SQLite's STAT4
// statistics make every statement with a bound indexed value re-prepare on each
// new value, which made a bulk change of 10 000 keys spend 40% of its time
// parsing SQL.
const V4: &str = r#"
DROP INDEX keys_name;
CREATE INDEX keys_listing ON keys (name COLLATE NOCASE, id, status, expires_at, instance_id,
    developer_id, channel_id, public_id, created_at, last_used_at, deactivated_at);
"#;

// Retired instances (the Directory, issue 13). An instance is retired only
// once none of its keys is active; from then on it is final, takes no new key,
// and no key of it becomes active again (renewing or extending an expired one).
// Its keys and history stay, so past rows still name it.
const V5: &str = r#"
ALTER TABLE instances ADD COLUMN retired_at INTEGER;

CREATE TRIGGER instances_retire_without_active_keys BEFORE UPDATE OF retired_at ON instances
WHEN OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL
 AND EXISTS (SELECT 1 FROM keys k
              WHERE k.instance_id = NEW.id AND k.status = 'active'
                AND (k.expires_at IS NULL OR k.expires_at > NEW.retired_at))
BEGIN SELECT RAISE(ABORT, 'keyward: an instance with active keys cannot be retired; deactivate them first'); END;

CREATE TRIGGER instances_retired_is_final BEFORE UPDATE ON instances
WHEN OLD.retired_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'keyward: a retired instance does not change'); END;

CREATE TRIGGER keys_not_on_a_retired_instance_on_insert BEFORE INSERT ON keys
WHEN (SELECT retired_at FROM instances WHERE id = NEW.instance_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'keyward: the instance is retired; it takes no new keys'); END;

CREATE TRIGGER keys_not_on_a_retired_instance_on_update
BEFORE UPDATE OF status, expires_at, instance_id ON keys
WHEN NEW.status = 'active'
 AND (NEW.expires_at IS NULL OR NEW.expires_at > NEW.changed_at)
 AND (SELECT retired_at FROM instances WHERE id = NEW.instance_id) IS NOT NULL
 AND (OLD.instance_id <> NEW.instance_id
      OR OLD.status <> 'active'
      OR (OLD.expires_at IS NOT NULL AND OLD.expires_at <= NEW.changed_at))
BEGIN SELECT RAISE(ABORT, 'keyward: the instance is retired; none of its keys becomes active again'); END;
"#;

// The database's stamp on a history row (issue 15). A PostgreSQL store fills
// these in with the session's login role and client address and checks them;
// SQLite has no such word to give and leaves them empty, which hashes as rows
// always have. They are here so that a history copied from one engine to the
// other keeps every field it was hashed with.
const V6: &str = r#"
ALTER TABLE history ADD COLUMN db_user TEXT;
ALTER TABLE history ADD COLUMN db_client TEXT;
"#;

// The history's words (issue 16): free-text search finds its rows from an
// index of the trigrams of the five columns it reads, folded the way the
// filter folds them, rather than by reading every row. `detail=none` keeps
// no positions (a quarter of the size), so a match is a row holding every
// trigram of the word and the filter checks the words themselves on the rows
// it finds. The trigger keeps it in step in the transaction that appends;
// the history is append-only, so the index never loses a row. Contentless:
// the words are the history's, not a second copy of them.
const V7: &str = r#"
CREATE VIRTUAL TABLE history_words USING fts5(
    subject, masked, details, operator, login,
    content='', columnsize=0, detail=none, tokenize='trigram case_sensitive 1');
CREATE TRIGGER history_words_append AFTER INSERT ON history
BEGIN
    INSERT INTO history_words (rowid, subject, masked, details, operator, login)
    VALUES (NEW.seq, kw_fold(NEW.subject), kw_fold(NEW.masked), kw_fold(NEW.details),
            kw_fold(NEW.operator), kw_fold(NEW.login));
END;
INSERT INTO history_words (rowid, subject, masked, details, operator, login)
SELECT seq, kw_fold(subject), kw_fold(masked), kw_fold(details), kw_fold(operator), kw_fold(login)
FROM history;
"#;

// Each team's count of keys not deleted (issue 16), kept by the changes
// themselves, so the Teams tab and `team list` read a number per team
// instead of counting every membership of every key. `audit verify` holds
// the counts to the memberships.
const V8: &str = r#"
ALTER TABLE teams ADD COLUMN live_keys INTEGER NOT NULL DEFAULT 0;
UPDATE teams SET live_keys = (
    SELECT COUNT(*) FROM key_teams kt JOIN keys k ON k.id = kt.key_id
     WHERE kt.team_id = teams.id AND k.status <> 'deleted');
CREATE TRIGGER teams_count_joined AFTER INSERT ON key_teams
WHEN (SELECT status FROM keys WHERE id = NEW.key_id) <> 'deleted'
BEGIN UPDATE teams SET live_keys = live_keys + 1 WHERE id = NEW.team_id; END;
CREATE TRIGGER teams_count_left AFTER DELETE ON key_teams
WHEN (SELECT status FROM keys WHERE id = OLD.key_id) <> 'deleted'
BEGIN UPDATE teams SET live_keys = live_keys - 1 WHERE id = OLD.team_id; END;
CREATE TRIGGER teams_count_moved AFTER UPDATE ON key_teams
BEGIN
    UPDATE teams SET live_keys = live_keys - 1
     WHERE id = OLD.team_id AND (SELECT status FROM keys WHERE id = OLD.key_id) <> 'deleted';
    UPDATE teams SET live_keys = live_keys + 1
     WHERE id = NEW.team_id AND (SELECT status FROM keys WHERE id = NEW.key_id) <> 'deleted';
END;
CREATE TRIGGER teams_count_deleted AFTER UPDATE OF status ON keys
WHEN (OLD.status = 'deleted') <> (NEW.status = 'deleted')
BEGIN
    UPDATE teams SET live_keys = live_keys + CASE WHEN NEW.status = 'deleted' THEN -1 ELSE 1 END
     WHERE id IN (SELECT team_id FROM key_teams WHERE key_id = NEW.id);
END;
"#;
