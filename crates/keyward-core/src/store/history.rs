//! The credential history: appended in sequence with a hash chain, read back
//! newest first through filters, and walked in order by the audit.

use super::query_sql::{Sql, Words, history_filter};
use super::sql::{BATCH_ROWS, Conn, Row, SqlValue, args};
use super::{Db, from_sqlite};
use crate::domain::history::{DbSession, GENESIS, HistoryPage, HistoryRecord, HistoryRow, Origin};
use crate::domain::query::HistoryQuery;
use crate::error::Result;
use std::ops::ControlFlow;

const HISTORY_SELECT: &str = "SELECT seq, at, action, key_id, masked, subject, operator, email,
    login, host, sudo_user, ssh_client, tty, details, hash, db_user, db_client FROM history h";

fn row_from(r: &Row) -> Result<HistoryRow> {
    Ok(HistoryRow {
        record: HistoryRecord {
            seq: r.get(0)?,
            at: r.get(1)?,
            action: r.get(2)?,
            key: r.get(3)?,
            masked: r.get(4)?,
            subject: r.get(5)?,
            operator: r.get(6)?,
            email: r.get(7)?,
            origin: Origin {
                login: r.get(8)?,
                host: r.get(9)?,
                sudo_user: r.get(10)?,
                ssh_client: r.get(11)?,
                tty: r.get(12)?,
                db_session: DbSession::from_columns(r.get(15)?, r.get(16)?),
            },
            details: r.get(13)?,
        },
        hash: r.get(14)?,
    })
}

/// A history row whose stored values are not of the types keyward writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreadableRow {
    pub seq: i64,
    pub reason: String,
}

/// The newest row's sequence number and hash, which the next row chains to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// The history table's columns, in the order `SELECT *` gives them and a
/// batch writes them.
pub const HISTORY_COLUMNS: [&str; 17] = [
    "seq",
    "at",
    "action",
    "key_id",
    "masked",
    "subject",
    "operator",
    "email",
    "login",
    "host",
    "sudo_user",
    "ssh_client",
    "tty",
    "details",
    "hash",
    "db_user",
    "db_client",
];

impl Db<'_> {
    /// How this engine finds the rows holding a word.
    fn words(&self) -> Words {
        match self.sql() {
            Conn::Lite(_) => Words::Indexed,
            Conn::Pg(_) => Words::Planned,
        }
    }

    /// Where the chain ends: the row the next one is hashed after. On a
    /// server several hosts write to, this locks the chain's head until the
    /// transaction ends, so no other writer appends in between.
    pub fn history_head(&self) -> Result<ChainHead> {
        let sql = if self.sql().is_postgres() {
            "SELECT seq, hash FROM history_head_lock()"
        } else {
            "SELECT seq, hash FROM history ORDER BY seq DESC LIMIT 1"
        };
        let head = self.sql().query_opt(sql, &[], |r| {
            Ok(ChainHead {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        })?;
        Ok(head.unwrap_or(ChainHead {
            seq: 0,
            hash: GENESIS.to_owned(),
        }))
    }

    /// Appends `record` after `head`, filling in its sequence number and the
    /// database's word on the session writing it (where the engine has one);
    /// returns the new head.
    pub fn append_history_after(
        &self,
        head: &ChainHead,
        record: HistoryRecord,
    ) -> Result<ChainHead> {
        self.append_history_batch(head, [record])
    }

    /// The newest row's sequence number and hash, read without locking
    /// anything (a read transaction may not lock).
    pub fn newest_history(&self) -> Result<ChainHead> {
        let head = self.sql().query_opt(
            "SELECT seq, hash FROM history ORDER BY seq DESC LIMIT 1",
            &[],
            |r| {
                Ok(ChainHead {
                    seq: r.get(0)?,
                    hash: r.get(1)?,
                })
            },
        )?;
        Ok(head.unwrap_or(ChainHead {
            seq: 0,
            hash: GENESIS.to_owned(),
        }))
    }

    /// Appends `records` after `head` in order, as [`Db::append_history_after`]
    /// would one by one, but as one load: a demo's million rows go to a
    /// server by one `COPY` (to a file, a thousand rows to a statement), not
    /// by a million round trips.
    pub fn append_history_batch(
        &self,
        head: &ChainHead,
        records: impl IntoIterator<Item = HistoryRecord>,
    ) -> Result<ChainHead> {
        let session = self.sql().session();
        let mut head = head.clone();
        let mut records = records.into_iter();
        let many = records.size_hint().1.is_none_or(|n| n > BATCH_ROWS);
        self.sql()
            .append_rows("history", &HISTORY_COLUMNS, many, &mut |put| {
                for mut record in records.by_ref() {
                    record.seq = head.seq + 1;
                    record.origin.db_session = session.clone();
                    let hash = record.chain_hash(&head.hash);
                    let o = record.origin;
                    let db = o.db_session.as_ref();
                    put(&args![
                        record.seq,
                        record.at,
                        record.action,
                        record.key,
                        record.masked,
                        record.subject,
                        record.operator,
                        record.email,
                        o.login,
                        o.host,
                        o.sudo_user,
                        o.ssh_client,
                        o.tty,
                        record.details,
                        hash,
                        db.map(|d| d.user.as_str()),
                        db.and_then(|d| d.client.as_deref()),
                    ])?;
                    head = ChainHead {
                        seq: record.seq,
                        hash,
                    };
                }
                Ok(())
            })?;
        Ok(head)
    }

    /// The store's first history row, if it has any.
    pub fn first_history_row(&self) -> Result<Option<HistoryRecord>> {
        self.sql()
            .query_opt(
                &format!("{HISTORY_SELECT} ORDER BY h.seq LIMIT 1"),
                &[],
                row_from,
            )
            .map(|row| row.map(|r| r.record))
    }

    /// When the newest history row was written, if there is one.
    pub fn last_history_at(&self) -> Result<Option<i64>> {
        self.sql().query_opt(
            "SELECT at FROM history ORDER BY seq DESC LIMIT 1",
            &[],
            |r| r.get(0),
        )
    }

    /// Appends one row at the end of the chain.
    pub fn append_history(&self, record: HistoryRecord) -> Result<ChainHead> {
        let head = self.history_head()?;
        self.append_history_after(&head, record)
    }

    /// Rows matching the filter, newest first, at most `limit`.
    pub fn history(
        &self,
        query: &HistoryQuery,
        now: i64,
        limit: Option<u64>,
    ) -> Result<Vec<HistoryRow>> {
        let mut sql = Sql::default();
        history_filter(&mut sql, query, now, self.words());
        let mut text = format!(
            "{HISTORY_SELECT} WHERE {} ORDER BY h.seq DESC",
            sql.condition()
        );
        if let Some(limit) = limit {
            text.push_str(&format!(" LIMIT {limit}"));
        }
        let params: Vec<SqlValue> = sql.params().cloned().collect();
        self.sql().query(&text, &params, row_from)
    }

    /// One page of the rows matching the filter, newest first, found by sequence
    /// number rather than by offset, so every page costs the same however deep.
    pub fn history_page(
        &self,
        query: &HistoryQuery,
        now: i64,
        page: HistoryPage,
        limit: u64,
    ) -> Result<Vec<HistoryRow>> {
        let mut sql = Sql::default();
        history_filter(&mut sql, query, now, self.words());
        let ascending = match page {
            HistoryPage::Newest => false,
            HistoryPage::Oldest => true,
            HistoryPage::OlderThan(seq) => {
                sql.and(format!("h.seq < {seq}"));
                false
            }
            HistoryPage::NewerThan(seq) => {
                sql.and(format!("h.seq > {seq}"));
                true
            }
        };
        let order = if ascending { "ASC" } else { "DESC" };
        let text = format!(
            "{HISTORY_SELECT} WHERE {} ORDER BY h.seq {order} LIMIT {limit}",
            sql.condition()
        );
        let params: Vec<SqlValue> = sql.params().cloned().collect();
        let mut rows = self.sql().query(&text, &params, row_from)?;
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Visits every row matching the filter, newest first, until `visit` breaks;
    /// for exports, which must not hold a million rows at once.
    pub fn each_history(
        &self,
        query: &HistoryQuery,
        now: i64,
        limit: Option<u64>,
        mut visit: impl FnMut(HistoryRow) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let mut sql = Sql::default();
        history_filter(&mut sql, query, now, self.words());
        let mut text = format!(
            "{HISTORY_SELECT} WHERE {} ORDER BY h.seq DESC",
            sql.condition()
        );
        // In the statement, not by breaking off: a server sends every row of
        // a statement, read or not.
        if let Some(limit) = limit {
            text.push_str(&format!(" LIMIT {limit}"));
        }
        let params: Vec<SqlValue> = sql.params().cloned().collect();
        self.sql()
            .each(&text, &params, &mut |r| visit(row_from(r)?))
    }

    /// Visits every row in sequence order until `visit` breaks. A row whose
    /// columns no longer hold the types written (someone edited the file) is
    /// passed on as unreadable rather than ending the walk in an error.
    pub fn walk_history(
        &self,
        mut visit: impl FnMut(Result<HistoryRow, UnreadableRow>) -> ControlFlow<()>,
    ) -> Result<()> {
        self.sql()
            .each(&format!("{HISTORY_SELECT} ORDER BY h.seq"), &[], &mut |r| {
                let row = row_from(r).map_err(|e| UnreadableRow {
                    seq: r.get(0).unwrap_or_default(),
                    reason: e.to_string(),
                });
                Ok(visit(row))
            })
    }
}

impl Db<'_> {
    /// What `audit verify` finds where the store disagrees with what keyward
    /// made and what its history says: a schema object (table, index,
    /// trigger) not exactly keyward's own, a key whose status its history does
    /// not explain, an operator or role the operator rows do not. Each
    /// finding is a sentence naming what is wrong.
    pub fn disagreements(&self) -> Result<Vec<String>> {
        // The schema: exactly what the migrations make, no more, no less.
        let mut out = match self.sql() {
            Conn::Lite(conn) => sqlite_schema_disagreements(conn)?,
            Conn::Pg(_) => super::pg::schema::disagreements(self)?,
        };
        // Each key's stored status against its history: deleted only with a
        // `deleted` row, deactivated only with a `deactivated` one, and
        // active only with neither (a final status never comes back). The
        // rows that say so are read once, by action (`history_action`, in
        // sequence order): asking the history about each key in turn walked
        // every row of every key, a million table lookups for 100 000 keys.
        let mut said: std::collections::HashMap<String, [bool; 3]> = Default::default();
        self.sql().each(
            "SELECT key_id, action FROM history
             WHERE action IN ('created', 'deactivated', 'deleted') AND key_id IS NOT NULL",
            &[],
            &mut |r| {
                let at = match r.get::<String>(1)?.as_str() {
                    "created" => 0,
                    "deactivated" => 1,
                    _ => 2,
                };
                said.entry(r.get(0)?).or_default()[at] = true;
                Ok(ControlFlow::Continue(()))
            },
        )?;
        self.sql().each(
            "SELECT public_id, status FROM keys ORDER BY id",
            &[],
            &mut |r| {
                let id: String = r.get(0)?;
                let status: String = r.get(1)?;
                let [created, deactivated, deleted] = said.get(&id).copied().unwrap_or_default();
                // A key no history row made was written behind keyward's
                // back: a secret someone chose, that verifies without a trace.
                if !created {
                    out.push(format!(
                        "key kw_{id} has no `created` row in the history: it was not made by keyward"
                    ));
                }
                let history_says = if deleted {
                    "deleted"
                } else if deactivated {
                    "deactivated"
                } else {
                    "active"
                };
                if status != history_says {
                    out.push(format!(
                        "key kw_{id} is {status}, but its history says {history_says}"
                    ));
                }
                Ok(ControlFlow::Continue(()))
            },
        )?;
        // Each team's kept count of keys against its memberships: the count
        // is only shown, but a wrong one would mislead whoever reads it.
        let counts: Vec<(String, i64, i64)> = self.sql().query(
            "SELECT t.name, t.live_keys, COALESCE(c.n, 0) FROM teams t
               LEFT JOIN (SELECT kt.team_id, COUNT(*) AS n FROM key_teams kt
                            JOIN keys k ON k.id = kt.key_id
                           WHERE k.status <> 'deleted' GROUP BY kt.team_id) c
                 ON c.team_id = t.id
              WHERE t.live_keys <> COALESCE(c.n, 0) ORDER BY t.name",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        for (team, kept, actual) in counts {
            out.push(format!(
                "team {} counts {kept} keys, but {actual} keys not deleted are in it",
                crate::safe_text::escape(&team)
            ));
        }
        // Operators and roles, replayed from the operator rows in order.
        let mut expected: std::collections::BTreeMap<String, String> = Default::default();
        let rows = self.sql().query(
            "SELECT action, subject, details FROM history
             WHERE action IN ('operator_added', 'operator_removed', 'operator_role_changed')
             ORDER BY seq",
            &[],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<String>(2)?,
                ))
            },
        )?;
        for (action, login, details) in rows {
            let Some(login) = login else { continue };
            let details: serde_json::Value = serde_json::from_str(&details).unwrap_or_default();
            match action.as_str() {
                "operator_added" => {
                    let role = details["role"].as_str().unwrap_or_default().to_owned();
                    expected.insert(login, role);
                }
                "operator_removed" => {
                    expected.remove(&login);
                }
                _ => {
                    let role = details["role"]["to"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    expected.insert(login, role);
                }
            }
        }
        let actual: Vec<(String, String)> = self.sql().query(
            "SELECT login, role FROM operators ORDER BY login",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        for (login, role) in &actual {
            match expected.get(login) {
                None => out.push(format!(
                    "operator {} is in the store, but no history row added them",
                    crate::safe_text::escape(login)
                )),
                Some(said) if said != role => out.push(if said.is_empty() {
                    format!(
                        "operator {} is {role}, but the history row that gave their role names none",
                        crate::safe_text::escape(login)
                    )
                } else {
                    format!(
                        "operator {} is {role}, but the history says {}",
                        crate::safe_text::escape(login),
                        crate::safe_text::escape(said)
                    )
                }),
                Some(_) => {}
            }
        }
        for login in expected.keys() {
            if !actual.iter().any(|(l, _)| l == login) {
                out.push(format!(
                    "operator {} was removed without a history row",
                    crate::safe_text::escape(login)
                ));
            }
        }
        Ok(out)
    }
}

/// Where a SQLite store's schema objects differ from what the migrations make.
fn sqlite_schema_disagreements(conn: &rusqlite::Connection) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let ours = super::schema::reference_objects().map_err(from_sqlite)?;
    let theirs = schema_objects(conn).map_err(from_sqlite)?;
    for (kind, name, sql) in &theirs {
        match ours.iter().find(|(k, n, _)| k == kind && n == name) {
            None => out.push(format!("the {kind} {name} is not keyward's")),
            Some((_, _, s)) if s != sql => {
                out.push(format!("the {kind} {name} was changed from keyward's"))
            }
            Some(_) => {}
        }
    }
    for (kind, name, _) in &ours {
        if !theirs.iter().any(|(k, n, _)| k == kind && n == name) {
            out.push(format!("keyward's {kind} {name} is missing"));
        }
    }
    Ok(out)
}

/// The store's own schema objects: (type, name, SQL), SQLite's internal ones
/// left out.
pub(super) fn schema_objects(
    conn: &rusqlite::Connection,
) -> rusqlite::Result<Vec<(String, String, Option<String>)>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}
