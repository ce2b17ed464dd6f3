//! Moving a store from one engine to the other (`keyward store copy`): every
//! table, row for row and id for id, the history chain with the hashes it
//! was written with, into a new store that takes it whole or not at all.

use super::sql::{Column, Row, SqlValue};
use super::{Db, Location, Store};
use crate::error::{Error, Result};
use std::ops::ControlFlow;

/// Every table keyward keeps, parents first, with the columns copied and the
/// order rows are read in. An instance's retirement is copied last, once its
/// keys are in (the schema refuses a key of a retired instance).
const TABLES: &[(&str, &str, &str)] = &[
    ("operators", "login, name, email, role, created_at", "login"),
    (
        "instances",
        "id, name, cloud, url, max_active, created_at",
        "id",
    ),
    ("developers", "id, instance_id, name, removed_at", "id"),
    ("channels", "id, name", "id"),
    ("teams", "id, name, created_at", "id"),
    (
        "keys",
        "id, public_id, name, instance_id, developer_id, channel_id, status, secret_hash, tail, \
         grace_hash, grace_until, expires_at, created_at, created_by, changed_at, deactivated_at, \
         deleted_at, last_used_at, use_count",
        "id",
    ),
    ("key_teams", "key_id, team_id", "key_id, team_id"),
    (
        "history",
        "seq, at, action, key_id, masked, subject, operator, email, login, host, sudo_user, \
         ssh_client, tty, details, hash, db_user, db_client",
        "seq",
    ),
    (
        "outbox",
        "id, created_at, event, key_ids, recipient_login, recipient_name, recipient_email, \
         subject, body, status, attempts, last_error, sent_at, next_attempt_at, last_attempt_at, \
         claimed_until, claim, via",
        "id",
    ),
    (
        "reminders",
        "key_id, threshold_days, expires_at, created_at",
        "key_id, threshold_days, expires_at",
    ),
    ("saved_filters", "id, login, name, query, created_at", "id"),
    ("preferences", "login, name, value", "login, name"),
];

/// The tables whose ids a server hands out from a sequence, set past the
/// copied ones afterwards.
const IDENTITIES: &[&str] = &[
    "instances",
    "developers",
    "channels",
    "teams",
    "keys",
    "outbox",
    "saved_filters",
];

/// What a copy moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Rows per table, in [`TABLES`] order.
    pub rows: Vec<(&'static str, u64)>,
    /// The newest history row's hash, in the copy as in the original.
    pub head: Option<String>,
}

impl Column for SqlValue {
    fn lite(r: &rusqlite::Row, i: usize) -> Result<Self> {
        use rusqlite::types::ValueRef;
        Ok(match r.get_ref(i).map_err(super::from_sqlite)? {
            ValueRef::Null => SqlValue::Null,
            ValueRef::Integer(n) => SqlValue::Int(n),
            ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Real(_) | ValueRef::Blob(_) => {
                return Err(Error::store(format!(
                    "column {i} holds a value keyward never writes (a number with a fraction or bytes); the store was changed by hand"
                )));
            }
        })
    }

    fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
        use postgres::types::Type;
        let ty = r.columns().get(i).map(|c| c.type_().clone());
        Ok(match ty {
            Some(Type::INT8 | Type::INT4 | Type::INT2) => {
                Option::<i64>::pg(r, i)?.map_or(SqlValue::Null, SqlValue::Int)
            }
            Some(Type::BOOL) => {
                Option::<i64>::pg(r, i)?.map_or(SqlValue::Null, |b| SqlValue::Bool(b != 0))
            }
            _ => Option::<String>::pg(r, i)?.map_or(SqlValue::Null, SqlValue::Text),
        })
    }
}

/// Copies every row of `from` into a new store at `to`. The new store is
/// made whole or not at all: a file is built aside and put in place at the
/// end; a server's schema and rows are one transaction. A store already at
/// `to` is refused.
/// `progress` hears of each table's rows as they go: its name and how many
/// so far, every ten thousand rows and at its end.
pub fn copy(
    from: &mut Store,
    to: &Location,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<CopyReport> {
    if let crate::access::Presence::Present = to.presence()? {
        return Err(Error::conflict(format!(
            "a store already exists at {to}; a copy goes into a new one"
        )));
    }
    let mut report = CopyReport::default();
    let mut made = Store::create_at(to, |dst| {
        from.read(|src| {
            importing(dst, true)?;
            for (table, columns, order) in TABLES {
                let n = copy_table(src, dst, table, columns, order, progress)?;
                report.rows.push((table, n));
            }
            // Retirements last, once their instances' keys are in.
            let retired = src.sql().query(
                "SELECT id, retired_at FROM instances WHERE retired_at IS NOT NULL ORDER BY id",
                &[],
                |r| Ok([r.get::<SqlValue>(0)?, r.get::<SqlValue>(1)?]),
            )?;
            for [id, at] in retired {
                dst.sql().execute(
                    "UPDATE instances SET retired_at = ?2 WHERE id = ?1",
                    &[id, at],
                )?;
            }
            if dst.sql().is_postgres() {
                for table in IDENTITIES {
                    dst.sql().query_one(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('keyward.{table}', 'id'),
                                           COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                        ),
                        &[],
                        |_| Ok(()),
                    )?;
                }
            }
            importing(dst, false)?;
            Ok(())
        })
    })?;
    // The copy's chain as the audit reads it: the same head as the original's.
    let theirs = from.read(|db| db.newest_history())?;
    let ours = made.read(|db| db.newest_history())?;
    if theirs != ours {
        return Err(Error::store(format!(
            "the copy's history ends at row {} ({}), the original's at row {} ({}); the copy at {to} should not be used",
            ours.seq, ours.hash, theirs.seq, theirs.hash
        )));
    }
    report.head = (ours.seq > 0).then_some(ours.hash);
    Ok(report)
}

/// On a server, lets the owner bring in history rows stamped by another
/// store (or by SQLite, which stamps none); a file checks no stamps.
///
/// While it imports, each trigger statement is planned for its own values:
/// the copy is one `COPY` per table into tables with no statistics yet, and
/// a plan cached for an empty table would read a quarter of all keys for
/// each key the limit's trigger counts.
fn importing(db: &Db, on: bool) -> Result<()> {
    if db.sql().is_postgres() {
        db.sql().execute(
            if on {
                "SET LOCAL plan_cache_mode = force_custom_plan"
            } else {
                "SET LOCAL plan_cache_mode = auto"
            },
            &[],
        )?;
        db.sql().execute(
            "UPDATE store_state SET importing = ?1",
            &[SqlValue::Bool(on)],
        )?;
    }
    Ok(())
}

/// Copies one table, in its order, streamed (on a server, by one `COPY`);
/// the number of rows.
fn copy_table(
    src: &Db,
    dst: &Db,
    table: &str,
    columns: &str,
    order: &str,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<u64> {
    let names: Vec<&str> = columns.split(',').map(str::trim).collect();
    let mut values = Vec::with_capacity(names.len());
    let mut n = 0;
    let copied = dst.sql().append_rows(table, &names, true, &mut |put| {
        src.sql().each(
            &format!("SELECT {columns} FROM {table} ORDER BY {order}"),
            &[],
            &mut |r: &Row| {
                values.clear();
                for i in 0..names.len() {
                    values.push(r.get::<SqlValue>(i)?);
                }
                put(&values)?;
                n += 1;
                if n % 10_000 == 0 {
                    progress(table, n);
                }
                Ok(ControlFlow::Continue(()))
            },
        )
    })?;
    progress(table, copied);
    Ok(copied)
}
