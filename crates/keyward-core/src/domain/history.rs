//! The credential history's vocabulary and its hash chain (SPEC §3). Each row's
//! hash covers its own fields and the previous row's hash, so changing, removing
//! or reordering any row breaks every hash from there on.

use sha2::{Digest, Sha256};
use std::fmt;

/// What happened. Stored and printed by these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    StoreCreated,
    Created,
    Viewed,
    Copied,
    Updated,
    TeamsChanged,
    Renewed,
    Deactivated,
    Deleted,
    VerifyFailed,
    InstanceAdded,
    DeveloperRemoved,
    TeamAdded,
    OperatorAdded,
    OperatorRemoved,
    NotificationSent,
    InstanceEdited,
    InstanceRetired,
    DeveloperAdded,
    DeveloperRenamed,
    TeamRenamed,
    TeamRemoved,
    OperatorRoleChanged,
}

impl Action {
    pub const ALL: [Action; 23] = [
        Action::StoreCreated,
        Action::Created,
        Action::Viewed,
        Action::Copied,
        Action::Updated,
        Action::TeamsChanged,
        Action::Renewed,
        Action::Deactivated,
        Action::Deleted,
        Action::VerifyFailed,
        Action::InstanceAdded,
        Action::DeveloperRemoved,
        Action::TeamAdded,
        Action::OperatorAdded,
        Action::OperatorRemoved,
        Action::NotificationSent,
        Action::InstanceEdited,
        Action::InstanceRetired,
        Action::DeveloperAdded,
        Action::DeveloperRenamed,
        Action::TeamRenamed,
        Action::TeamRemoved,
        Action::OperatorRoleChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::StoreCreated => "store_created",
            Action::Created => "created",
            Action::Viewed => "viewed",
            Action::Copied => "copied",
            Action::Updated => "updated",
            Action::TeamsChanged => "teams_changed",
            Action::Renewed => "renewed",
            Action::Deactivated => "deactivated",
            Action::Deleted => "deleted",
            Action::VerifyFailed => "verify_failed",
            Action::InstanceAdded => "instance_added",
            Action::DeveloperRemoved => "developer_removed",
            Action::TeamAdded => "team_added",
            Action::OperatorAdded => "operator_added",
            Action::OperatorRemoved => "operator_removed",
            Action::NotificationSent => "notification_sent",
            Action::InstanceEdited => "instance_edited",
            Action::InstanceRetired => "instance_retired",
            Action::DeveloperAdded => "developer_added",
            Action::DeveloperRenamed => "developer_renamed",
            Action::TeamRenamed => "team_renamed",
            Action::TeamRemoved => "team_removed",
            Action::OperatorRoleChanged => "operator_role_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Every action name, for error messages and help.
    pub fn names() -> String {
        Action::ALL.map(Action::as_str).join(", ")
    }

    /// Why a history filter cannot be run when it names an action that does
    /// not exist (it would show nothing rather than say so), escaped.
    pub fn unknown_in(query: &crate::domain::query::HistoryQuery) -> Option<String> {
        use crate::domain::query::HistoryTermKind;
        query.terms.iter().find_map(|term| match &term.kind {
            HistoryTermKind::Action(actions) => actions
                .iter()
                .find(|a| Action::parse(a).is_none())
                .map(|unknown| {
                    format!(
                        "unknown action {}; actions are {}",
                        crate::safe_text::escape(unknown),
                        Action::names()
                    )
                }),
            _ => None,
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an action came from: who ran keyward, on which host, through what.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub login: String,
    pub host: String,
    pub sudo_user: Option<String>,
    pub ssh_client: Option<String>,
    pub tty: Option<String>,
    /// The database's own word on the session that wrote the row (a
    /// PostgreSQL store stamps and checks it; a SQLite store has none).
    pub db_session: Option<DbSession>,
}

/// Who a database server says wrote a history row: the session's login role
/// (`session_user`) and the address it connected from (`inet_client_addr()`,
/// none over a Unix socket).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbSession {
    pub user: String,
    pub client: Option<String>,
}

impl DbSession {
    /// The stamp stored in a row's `db_user` and `db_client` columns: none
    /// when both are empty. A client without a user (which keyward never
    /// writes) reads as an empty user, so it is hashed and a change to it shows.
    pub fn from_columns(user: Option<String>, client: Option<String>) -> Option<DbSession> {
        match (user, client) {
            (None, None) => None,
            (user, client) => Some(DbSession {
                user: user.unwrap_or_default(),
                client,
            }),
        }
    }
}

/// One history row, exactly as chained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRecord {
    pub seq: i64,
    /// Unix seconds, UTC.
    pub at: i64,
    pub action: String,
    /// The key's public id, when the action concerns one key.
    pub key: Option<String>,
    pub masked: Option<String>,
    /// The name of what the action is about: key name, instance, team, operator login.
    pub subject: Option<String>,
    pub operator: Option<String>,
    pub email: Option<String>,
    pub origin: Origin,
    /// A JSON object with what changed.
    pub details: String,
}

/// The hash that the first row chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl HistoryRecord {
    /// SHA-256 over the previous hash and a canonical JSON array of every field.
    pub fn chain_hash(&self, prev: &str) -> String {
        let o = &self.origin;
        let mut canonical = serde_json::json!([
            self.seq,
            self.at,
            self.action,
            self.key,
            self.masked,
            self.subject,
            self.operator,
            self.email,
            o.login,
            o.host,
            o.sudo_user,
            o.ssh_client,
            o.tty,
            self.details,
        ]);
        // Rows without the database's stamp (every SQLite row) hash as they
        // always have; a stamped row hashes its stamp too. One encoding for
        // both engines: a history copied between them verifies unchanged.
        if let (Some(db), Some(fields)) = (&o.db_session, canonical.as_array_mut()) {
            fields.push(serde_json::json!(db.user));
            fields.push(serde_json::json!(db.client));
        }
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(b"\n");
        h.update(canonical.to_string().as_bytes());
        hex(&h.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// A stored history row and the hash it was stored with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    pub record: HistoryRecord,
    pub hash: String,
}

/// Which page of the history to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryPage {
    Newest,
    Oldest,
    /// The rows just older than this sequence number.
    OlderThan(i64),
    /// The rows just newer than this sequence number.
    NewerThan(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> HistoryRecord {
        HistoryRecord {
            seq: 1,
            at: 1_795_000_000,
            action: "created".into(),
            key: Some("3fQa9LzX".into()),
            masked: Some("kw_3fQa9LzX_…7Gd2".into()),
            subject: Some("billing sync".into()),
            operator: Some("Ana".into()),
            email: Some("ana@example.org".into()),
            origin: crate::testing::origin("ana"),
            details: "{}".into(),
        }
    }

    #[test]
    fn every_action_name_reads_back() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn the_encoding_is_pinned_so_stored_chains_verify_in_every_build_and_engine() {
        // Computed once; a change here breaks every store's chain.
        let mut r = record();
        assert_eq!(
            r.chain_hash(GENESIS),
            "ea2c21bfd3f2644b8dd55ef703109b9a78f4f0cc53f77b38d760c4b093bd49f5"
        );
        r.origin.db_session = Some(DbSession {
            user: "keyward_bastion_a".into(),
            client: Some("10.0.4.17".into()),
        });
        assert_eq!(
            r.chain_hash(GENESIS),
            "f0e47befbb37503ade2c877c36c924d5c45ac8cb6d0d7a4667ab8896f2f561e2"
        );
    }

    #[test]
    fn hash_is_stable_and_depends_on_every_field_and_the_previous_hash() {
        let base = record();
        let h = base.chain_hash(GENESIS);
        assert_eq!(h.len(), 64);
        assert_eq!(h, record().chain_hash(GENESIS));
        assert_ne!(h, base.chain_hash(&h));
        let variants: Vec<fn(&mut HistoryRecord)> = vec![
            |r| r.seq = 2,
            |r| r.at += 1,
            |r| r.action = "viewed".into(),
            |r| r.key = None,
            |r| r.masked = None,
            |r| r.subject = Some("other".into()),
            |r| r.operator = None,
            |r| r.email = Some("x@y".into()),
            |r| r.origin.login = "bob".into(),
            |r| r.origin.host = "h2".into(),
            |r| r.origin.sudo_user = Some("root".into()),
            |r| r.origin.ssh_client = Some("10.0.0.1".into()),
            |r| r.origin.tty = Some("/dev/pts/1".into()),
            |r| r.details = "{\"a\":1}".into(),
            |r| r.origin.db_session = Some(DbSession::default()),
            |r| {
                r.origin.db_session = Some(DbSession {
                    user: "kw".into(),
                    client: None,
                })
            },
            |r| {
                r.origin.db_session = Some(DbSession {
                    user: String::new(),
                    client: Some("10.0.0.7".into()),
                })
            },
        ];
        for change in variants {
            let mut r = record();
            change(&mut r);
            assert_ne!(r.chain_hash(GENESIS), h);
        }
    }
}

#[cfg(test)]
mod unknown_action_tests {
    use super::Action;
    use crate::domain::query::HistoryQuery;

    #[test]
    fn a_filter_naming_no_action_there_is_says_so_and_lists_them() {
        let q = HistoryQuery::parse("action:created,renewd operator:ana").unwrap();
        let why = Action::unknown_in(&q).expect("renewd is no action");
        assert!(
            why.starts_with("unknown action renewd; actions are store_created, created"),
            "{why}"
        );
        let q = HistoryQuery::parse("action:created,renewed").unwrap();
        assert_eq!(Action::unknown_in(&q), None);
    }
}
